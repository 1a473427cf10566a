/// How API keys and session tokens are spelled, generated and hashed.
///
/// An API key reads `rk_<key id>_<secret>`: `rk_` makes it recognisable (and greppable by secret
/// scanners), the 16-hex-digit key id names it in listings and `keys revoke`, and the 43-character
/// base-62 secret carries 256 bits from `RAND_bytes`. The key is shown once; only its SHA-256 is stored.
public enum SecretTokens {
    /// Every API key starts with this.
    public static let apiKeyPrefix = "rk_"
    /// Length of the random part of keys and session tokens (43 × log2(62) ≈ 256 bits).
    public static let secretLength = 43
    /// Length of a key id in hex digits.
    public static let keyIdLength = 16

    /// A new API key and its parts.
    public static func newAPIKey() throws(LedgerError) -> (key: String, keyId: String) {
        let keyId = try SecureRandom.hex(bytes: keyIdLength / 2)
        let secret = try SecureRandom.token(length: secretLength)
        return (apiKeyPrefix + keyId + "_" + secret, keyId)
    }

    /// A new session token (a cookie value): 43 base-62 characters.
    public static func newSessionToken() throws(LedgerError) -> String {
        try SecureRandom.token(length: secretLength)
    }

    /// The part of a key that may be displayed: `rk_<key id>`.
    public static func visiblePrefix(keyId: String) -> String { apiKeyPrefix + keyId }

    /// Whether `bytes` has the shape of an API key (prefix, key id, separator); a cheap check before hashing.
    public static func looksLikeAPIKey(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let expected = apiKeyPrefix.utf8.count + keyIdLength + 1 + secretLength
        guard bytes.count == expected, bytes[0] == UInt8(ascii: "r"), bytes[1] == UInt8(ascii: "k"), bytes[2] == UInt8(ascii: "_") else { return false }
        return bytes[3 + keyIdLength] == UInt8(ascii: "_")
    }

    /// Whether `keyId` is well-formed (16 lowercase hex digits).
    public static func isKeyId(_ keyId: String) -> Bool {
        keyId.utf8.count == keyIdLength && keyId.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
