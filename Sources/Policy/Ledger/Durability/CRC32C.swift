/// CRC-32C (Castagnoli), the checksum that tells a journal block or checkpoint slot that was written
/// whole from one torn or never written: table-driven, a byte at a time (4 KiB in a few microseconds).
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { (index: Int) -> UInt32 in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
