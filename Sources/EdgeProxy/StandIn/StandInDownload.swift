internal import Crypto
public import NIOCore

/// The deterministic byte stream served by `GET /download` (and reused by tests to generate uploads).
///
/// The stream for a seed is one 64 KiB block repeated: byte `i` is `block[i % 65_536]`, where the block
/// is 8 192 outputs of SplitMix64 (Steele, Lea & Flood 2014) started from `seed`, each written
/// little-endian. So a test can compute the expected SHA-256 of `N` bytes by hashing the block
/// `N / 65_536` times plus a prefix — no allocation proportional to `N`.
public enum StandInDownload {
    /// Bytes in one repeating block of the stream.
    public static let blockSize = 65_536

    /// The 64 KiB block the stream for `seed` repeats.
    public static func block(seed: UInt64) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(blockSize)
        var state = seed
        for _ in 0..<(blockSize / 8) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: z >> UInt64(shift)))
            }
        }
        return bytes
    }

    /// The block for `seed` as a `ByteBuffer`, ready to be sliced without copying.
    public static func blockBuffer(seed: UInt64) -> ByteBuffer {
        ByteBuffer(bytes: block(seed: seed))
    }

    /// Lowercase hex SHA-256 of the first `bytes` bytes of the stream for `seed`.
    public static func sha256(bytes: Int, seed: UInt64 = 0) -> String {
        let block = block(seed: seed)
        var hasher = SHA256()
        var remaining = max(0, bytes)
        while remaining >= blockSize {
            hasher.update(data: block)
            remaining -= blockSize
        }
        if remaining > 0 {
            hasher.update(data: block[0..<remaining])
        }
        return StandInHex.encode(hasher.finalize())
    }
}

/// Lowercase hexadecimal text of digests.
enum StandInHex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The not-yet-written part of a `/download` body: `remaining` bytes starting `offset` bytes into the block.
struct StandInDownloadBody {
    private let block: ByteBuffer
    private var offset = 0
    private(set) var remaining: Int

    init(bytes: Int, seed: UInt64) {
        self.block = StandInDownload.blockBuffer(seed: seed)
        self.remaining = bytes
    }

    /// The next piece of at most `maxBytes` (and never crossing a block boundary), as a slice of the block.
    mutating func next(maxBytes: Int) -> ByteBuffer? {
        guard remaining > 0 else { return nil }
        let length = min(remaining, maxBytes, StandInDownload.blockSize - offset)
        guard let piece = block.getSlice(at: block.readerIndex + offset, length: length) else { return nil }
        offset = (offset + length) % StandInDownload.blockSize
        remaining -= length
        return piece
    }
}
