import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate for localhost/127.0.0.1, made on first start when none is configured.
public enum DevelopmentCertificate {
    /// Paths of a certificate and its key.
    public struct Files: Sendable {
        public var certificatePath: String
        public var keyPath: String
        /// Whether this start created them.
        public var created: Bool
    }

    /// Returns the development certificate in `dataDirectory`, creating it if missing.
    public static func ensure(in dataDirectory: String) throws -> Files {
        let directory = (dataDirectory as NSString).appendingPathComponent("tls")
        let certificatePath = (directory as NSString).appendingPathComponent("dev-cert.pem")
        let keyPath = (directory as NSString).appendingPathComponent("dev-key.pem")
        let fm = FileManager.default
        if fm.fileExists(atPath: certificatePath) && fm.fileExists(atPath: keyPath) {
            return Files(certificatePath: certificatePath, keyPath: keyPath, created: false)
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Recraftor Edge (development)")
            CommonName("localhost")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(397 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key))
        let certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        let keyPEM = key.pemRepresentation + "\n"
        guard fm.createFile(atPath: keyPath, contents: Data(keyPEM.utf8), attributes: [.posixPermissions: 0o600]),
              fm.createFile(atPath: certificatePath, contents: Data(certificatePEM.utf8), attributes: [.posixPermissions: 0o644])
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory])
        }
        return Files(certificatePath: certificatePath, keyPath: keyPath, created: true)
    }
}
