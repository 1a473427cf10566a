internal import COpenSSL

/// SHA-256 of secrets (API keys, session tokens) with libcrypto: the ledger stores only these digests.
public enum SecretHash {
    /// Hashes raw bytes, e.g. an API key straight from a request header's bytes; no allocation.
    public static func sha256(bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        var digest = SHA256Digest(words: (0, 0, 0, 0))
        withUnsafeMutableBytes(of: &digest.words) { out in
            copenssl_sha256(bytes.baseAddress, bytes.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// Hashes the UTF-8 bytes of `text` (an API key or session token as issued).
    public static func sha256(_ text: String) -> SHA256Digest {
        var copy = text
        return copy.withUTF8 { sha256(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Hashes a byte array.
    public static func sha256(_ bytes: [UInt8]) -> SHA256Digest {
        bytes.withUnsafeBytes { sha256(bytes: $0) }
    }
}
