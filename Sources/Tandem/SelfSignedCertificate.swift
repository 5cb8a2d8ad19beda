import COpenSSL
import TandemIO

#if canImport(Glibc)
import Glibc
#endif

/// A certificate and private key, as PEM files, that identify a server only to clients configured
/// to trust that exact certificate.
public struct SelfSignedCertificate: Sendable, Hashable {
  /// The PEM file with the certificate.
  public var certificatePath: String
  /// The PEM file with the private key (mode 0600).
  public var privateKeyPath: String

  /// Generates a P-256 key and a self-signed certificate valid for `validDays` (default 30) and
  /// for the DNS names and IP addresses in `subjectAlternativeNames` (default `localhost`,
  /// `127.0.0.1` and `::1`), and writes both as PEM files into `directory`.
  ///
  /// - Throws: ``CertificateGenerationError`` naming the OpenSSL step that failed.
  public static func generate(
    in directory: String,
    commonName: String = "localhost",
    subjectAlternativeNames: [String] = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"],
    validDays: Int = 30
  ) throws(CertificateGenerationError) -> SelfSignedCertificate {
    OpenSSLLibrary.initialize()
    guard let keyContext = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
      throw .failed("EVP_PKEY_CTX_new_from_name(EC)")
    }
    defer { EVP_PKEY_CTX_free(keyContext) }
    guard EVP_PKEY_keygen_init(keyContext) == 1,
      EVP_PKEY_CTX_set_group_name(keyContext, "P-256") == 1
    else {
      throw .failed("EVP_PKEY_keygen_init with group P-256")
    }
    var generatedKey: OpaquePointer?
    guard EVP_PKEY_generate(keyContext, &generatedKey) == 1, let key = generatedKey else {
      throw .failed("EVP_PKEY_generate")
    }
    defer { EVP_PKEY_free(key) }

    guard let certificate = X509_new() else { throw .failed("X509_new") }
    defer { X509_free(certificate) }
    guard X509_set_version(certificate, 2) == 1 else { throw .failed("X509_set_version") }

    var serial = [UInt8](repeating: 0, count: 16)
    guard RAND_bytes(&serial, Int32(serial.count)) == 1 else { throw .failed("RAND_bytes") }
    serial[0] &= 0x7F
    guard let serialNumber = BN_bin2bn(serial, Int32(serial.count), nil) else { throw .failed("BN_bin2bn") }
    defer { BN_free(serialNumber) }
    guard BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(certificate)) != nil else {
      throw .failed("BN_to_ASN1_INTEGER")
    }
    guard X509_gmtime_adj(X509_getm_notBefore(certificate), -60) != nil,
      X509_gmtime_adj(X509_getm_notAfter(certificate), validDays * 86_400) != nil
    else {
      throw .failed("X509_gmtime_adj")
    }
    guard X509_set_pubkey(certificate, key) == 1 else { throw .failed("X509_set_pubkey") }

    guard let name = X509_get_subject_name(certificate),
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1,
      X509_set_issuer_name(certificate, name) == 1
    else {
      throw .failed("setting the subject and issuer name CN=\(commonName)")
    }

    let extensions = [
      (NID_subject_alt_name, subjectAlternativeNames.joined(separator: ",")),
      (NID_basic_constraints, "critical,CA:FALSE"),
      (NID_ext_key_usage, "serverAuth"),
    ]
    for (nid, value) in extensions {
      guard let ext = X509V3_EXT_conf_nid(nil, nil, nid, value) else {
        throw .failed("X509V3_EXT_conf_nid(\(value))")
      }
      defer { X509_EXTENSION_free(ext) }
      guard X509_add_ext(certificate, ext, -1) == 1 else { throw .failed("X509_add_ext(\(value))") }
    }
    guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw .failed("X509_sign") }

    let certificatePath = directory + "/server.crt"
    let privateKeyPath = directory + "/server.key"
    guard let certificateFile = BIO_new_file(certificatePath, "w") else {
      throw .failed("opening \(certificatePath) for writing")
    }
    let wroteCertificate = PEM_write_bio_X509(certificateFile, certificate)
    BIO_free(certificateFile)
    guard wroteCertificate == 1 else { throw .failed("writing \(certificatePath)") }

    let previousMask = umask(0o077)
    let keyFile = BIO_new_file(privateKeyPath, "w")
    umask(previousMask)
    guard let keyFile else { throw .failed("opening \(privateKeyPath) for writing") }
    let wroteKey = PEM_write_bio_PrivateKey(keyFile, key, nil, nil, 0, nil, nil)
    BIO_free(keyFile)
    guard wroteKey == 1 else { throw .failed("writing \(privateKeyPath)") }

    return SelfSignedCertificate(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
  }
}

/// A failure while generating a self-signed certificate.
public struct CertificateGenerationError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The step that failed and OpenSSL's reason.
  public var message: String

  static func failed(_ step: String) -> CertificateGenerationError {
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(ERR_get_error(), &buffer, buffer.count)
    let reason = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return CertificateGenerationError(message: "generating a self-signed certificate failed at \(step): \(reason)")
  }

  public var description: String { message }
}
