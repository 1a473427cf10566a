internal import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The head of one of LMDB's two meta pages (page 0 and 1 of `data.mdb`): which snapshot the file
/// opens at. A checkpoint keeps a copy of the head that named the synced snapshot; after a power
/// loss, writing that copy back into both meta pages reopens the file at that snapshot, whose pages
/// no later commit has overwritten (see `Checkpointer`).
///
/// Layout (LMDB 0.9, data version 1, 64-bit): a 16-byte page header (`mp_pgno` u64, pad, `mp_flags`
/// u16 = `P_META`, bounds), then `MDB_meta`: magic u32 `0xBEEFC0DE` @16, version u32 @20, address
/// @24, map size @32, the free and main `MDB_db` (48 bytes each) @40 and @88 — the free one's first
/// u32 is the page size — last page @136 and transaction id @144; 152 bytes in all.
struct LMDBMetaPage: Equatable {
    static let size = 152
    static let magic: UInt32 = 0xBEEF_C0DE
    static let dataVersion: UInt32 = 1
    static let metaFlag: UInt16 = 0x08

    /// The 152 bytes, with `mp_pgno` as read.
    private(set) var bytes: [UInt8]

    /// Validates `bytes` as a meta page head (magic, version, flag); nil when they are not one.
    init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count >= Self.size else { return nil }
        self.bytes = Array(bytes.prefix(Self.size))
        let valid = self.bytes.withUnsafeBytes { raw in
            raw.uint32(at: 16) == Self.magic && raw.uint32(at: 20) == Self.dataVersion && raw.uint16(at: 10) & Self.metaFlag != 0
        }
        guard valid else { return nil }
    }

    /// The snapshot (LMDB transaction id) this page names.
    var transactionId: UInt64 { bytes.withUnsafeBytes { $0.uint64(at: 144) } }

    /// The page size the file was created with.
    var pageSize: Int { Int(bytes.withUnsafeBytes { $0.uint32(at: 40) }) }

    /// The same head, placed as meta page `slot` (0 or 1).
    func placed(inSlot slot: UInt64) -> [UInt8] {
        var copy = bytes
        copy.withUnsafeMutableBytes { $0.setUInt64(slot, at: 0) }
        return copy
    }

    /// Reads the meta page that names the snapshot of `readTransaction` from the data file (the page
    /// cache, which the map shares). Call with LMDB's write lock held (a write transaction open), so no
    /// commit rewrites it meanwhile.
    static func current(in environment: LMDBEnvironment, for readTransaction: OpaquePointer) throws(LedgerError) -> LMDBMetaPage {
        var fd: Int32 = -1
        try LMDBEnvironment.check(mdb_env_get_fd(environment.handle, &fd), "mdb_env_get_fd")
        var stat = MDB_stat()
        try LMDBEnvironment.check(mdb_env_stat(environment.handle, &stat), "mdb_env_stat")
        let snapshot = UInt64(mdb_txn_id(readTransaction))
        var page = [UInt8](repeating: 0, count: size)
        for slot in 0..<2 {
            guard pread(fd, &page, size, off_t(slot * Int(stat.ms_psize))) == size else {
                throw LedgerError(code: .io, operation: "checkpoint", message: "cannot read meta page \(slot): errno \(errno)")
            }
            if let meta = LMDBMetaPage(page), meta.transactionId == snapshot { return meta }
        }
        throw LedgerError(code: .storage, operation: "checkpoint", message: "no meta page names snapshot \(snapshot)")
    }

    /// Reads both meta pages of the file at `dataPath` (nil for an unreadable or invalid one).
    static func read(dataPath: String) -> [LMDBMetaPage?] {
        let fd = open(dataPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [nil, nil] }
        defer { close(fd) }
        var first = [UInt8](repeating: 0, count: size)
        guard pread(fd, &first, size, 0) == size, let meta0 = LMDBMetaPage(first) else { return [nil, nil] }
        var second = [UInt8](repeating: 0, count: size)
        let meta1 = pread(fd, &second, size, off_t(meta0.pageSize)) == size ? LMDBMetaPage(second) : nil
        return [meta0, meta1]
    }

    /// Writes this head into both meta pages of the file at `dataPath` and fsyncs it: the file then
    /// opens at this snapshot. Only while no process has the environment open.
    func restore(dataPath: String) throws(LedgerError) {
        let fd = open(dataPath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(code: .io, operation: "restore checkpoint", message: "cannot open \(dataPath): errno \(errno)") }
        defer { close(fd) }
        for slot in 0..<2 {
            let page = placed(inSlot: UInt64(slot))
            guard pwrite(fd, page, page.count, off_t(slot * pageSize)) == page.count else {
                throw LedgerError(code: .io, operation: "restore checkpoint", message: "cannot write meta page \(slot) of \(dataPath): errno \(errno)")
            }
        }
        guard fsync(fd) == 0 else { throw LedgerError(code: .io, operation: "restore checkpoint", message: "cannot fsync \(dataPath): errno \(errno)") }
    }
}
