// Public surface of the PKI module: key pairs, a self-signed CA, leaves signed by it, PEM,
// certificate facts and pure rotation decisions. Used by the registry token server (its
// signing certificate) and the admission webhooks (CA, serving certificate, CA bundle).

export {
  type CaOptions,
  type CertificateInfo,
  type CertificateUsage,
  type CertificateWithKey,
  canonicalIp,
  certificateInfo,
  createCertificateAuthority,
  createSigningCertificate,
  isIssuedBy,
  issueCertificate,
  type LeafOptions,
  matchesPrivateKey,
  type Validity,
  type ValidityOptions,
} from "./certificates.ts";
export { generateKeyPair, type KeyAlgorithm, type KeyPair, keyAlgorithmOf, publicKeyOf } from "./keys.ts";
export { decodePem, encodePem, type PemBlock, PemError, splitCertificates } from "./pem.ts";
export {
  DEFAULT_RENEWAL_POLICY,
  mergeCaBundle,
  type RenewalPolicy,
  type RotationDecision,
  type RotationExpectations,
  type RotationReason,
  renewalTime,
  rotationDecision,
} from "./rotation.ts";
