/// A process that has the ledger open, keyed by its instance number (big-endian).
///
/// `0 pid u32  4 reserved  8 process start time (clock ticks since boot) u64  16 opened ms  24 boot id
/// length u8  25 boot id (≤ 39 bytes)`. A record whose process is gone (different boot, no such pid, or
/// a pid reused by a process that started at another time) is dead: its holds are released.
struct ProcessRecord: Equatable {
    static let size = 64

    var pid: Int32
    var startTicks: UInt64
    var openedMs: Int64
    var bootId: String

    init(pid: Int32, startTicks: UInt64, openedMs: Int64, bootId: String) {
        self.pid = pid
        self.startTicks = startTicks
        self.openedMs = openedMs
        self.bootId = bootId
    }

    init(_ bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        guard bytes.count == Self.size, bytes[24] <= 39 else {
            throw LedgerError(code: .corrupted, operation: "decode process", message: "unexpected process record layout")
        }
        pid = Int32(bitPattern: bytes.uint32(at: 0))
        startTicks = bytes.uint64(at: 8)
        openedMs = bytes.int64(at: 16)
        bootId = bytes.string(at: 25, count: Int(bytes[24]))
    }

    func encode(into out: UnsafeMutableRawBufferPointer) {
        out.initializeMemory(as: UInt8.self, repeating: 0)
        out.setUInt32(UInt32(bitPattern: pid), at: 0)
        out.setUInt64(startTicks, at: 8)
        out.setInt64(openedMs, at: 16)
        out[24] = UInt8(out.setString(bootId, at: 25, limit: 39))
    }
}
