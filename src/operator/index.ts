// The assembly: builds the enabled controllers and the services around them from the runtime.
export { buildOperator, type Operator, type OperatorDeps } from "./run.ts";
