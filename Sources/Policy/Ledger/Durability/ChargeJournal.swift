import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process's charge journal: what makes a charge durable in one synchronous write instead of
/// LMDB's two ordered flushes. `<data>/journal/<pid>-<random>.wal`, a ring of 4 KiB blocks, zero-filled
/// when created (so a write never changes the file's size or allocation, and `O_DSYNC` costs one
/// device flush) and held under an exclusive `flock` for the process's life (a lockable journal
/// belongs to a dead process).
///
/// Block 0 holds the process's newest checkpoint (`CheckpointSlots`); the ring is blocks 1...capacity.
/// Each committed batch of charges becomes an entry of one or more consecutive blocks; a block is
/// magic `EJN1` @0, CRC-32C of the header's rest and the payload @4, epoch @8, LMDB transaction id @16, batch time @24,
/// part u16 @32, parts u16 @34, payload length u16 @36, then the payload. Recovery keeps an entry only
/// when every part is intact, its epoch is the checkpoint's, and its transaction is newer than the
/// checkpoint's snapshot. A block is overwritten only once a checkpoint covers the entry it holds.
///
/// The ring is used by the flusher thread alone. The checkpoint thread writes elsewhere in the file:
/// the head (`record`, `retire`) and the zero-filled extension past the ring (`grow`), which the
/// flusher adopts between rounds; `growthLock` guards what the two share.
///
/// `@unchecked Sendable`: see above; `fd` changes only in `closeFile()`, after both threads stopped.
final class ChargeJournal: @unchecked Sendable {
    static let blockSize = 4096
    static let headerSize = 40
    static let payloadPerBlock = blockSize - headerSize
    private static let magic: UInt32 = 0x314E_4A45  // "EJN1"

    let path: String
    let epoch: UInt64
    private var fd: Int32
    /// Blocks in the ring (flusher thread).
    private(set) var capacity: Int
    static let initialCapacity = 64
    private static let growthBlocks = (1 << 20) / blockSize
    private let growthLock = NSLock()
    /// Zero-filled blocks in the file, and the most there will be (under `growthLock`).
    private var filledCapacity: Int
    private var targetCapacity: Int
    /// Whether any entry was written (under `growthLock`): only a journal in use grows.
    private var used = false
    /// Where the next entry starts.
    private var next = 0
    /// The transaction id whose entry each block holds (0: none).
    private var blockTransaction: [UInt64]
    private var buffer: [UInt8] = []

    /// The directory holding every process's journal.
    static func directory(in dataDirectory: String) -> String { (dataDirectory as NSString).appendingPathComponent("journal") }

    /// Creates this process's journal, locked, with a ring of `initialCapacity` zero-filled blocks that
    /// `grow()` extends to `bytes` once charges use it (0: no ring, only the checkpoint head).
    init(dataDirectory: String, epoch: UInt64, bytes: Int) throws(LedgerError) {
        let directory = Self.directory(in: dataDirectory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LedgerError(code: .io, operation: "create journal", message: "cannot create \(directory): \(error.localizedDescription)")
        }
        let name = "\(getpid())-\(String(UInt64.random(in: 1...UInt64.max), radix: 16)).wal"
        path = (directory as NSString).appendingPathComponent(name)
        self.epoch = epoch
        targetCapacity = max(0, bytes / Self.blockSize)
        capacity = min(targetCapacity, Self.initialCapacity)
        filledCapacity = capacity
        blockTransaction = [UInt64](repeating: 0, count: capacity)
        let fileBytes = (capacity + 1) * Self.blockSize
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_DSYNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError(code: .io, operation: "create journal", message: "cannot create \(path): errno \(errno)") }
        do throws(LedgerError) {
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw LedgerError(code: .io, operation: "create journal", message: "cannot lock \(path): errno \(errno)") }
            let zeros = [UInt8](repeating: 0, count: 1 << 20)
            var written = 0
            while written < fileBytes {
                let count = min(zeros.count, fileBytes - written)
                guard pwrite(fd, zeros, count, off_t(written)) == count else {
                    throw LedgerError(code: .io, operation: "create journal", message: "cannot fill \(path): errno \(errno)")
                }
                written += count
            }
            try Self.syncDirectory(directory)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
    }

    deinit { closeFile() }

    /// Closes the file, which releases its lock: from now on the journal counts as a dead process's.
    /// Idempotent; the journal must not be used afterwards.
    func closeFile() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    /// Whether the file should be extended (checkpoint thread): the ring is in use and smaller than asked for.
    var canGrow: Bool {
        growthLock.lock()
        defer { growthLock.unlock() }
        return used && filledCapacity < targetCapacity
    }

    /// Zero-fills up to another megabyte past the ring (checkpoint thread); the flusher adopts it.
    func grow() throws(LedgerError) {
        growthLock.lock()
        let start = filledCapacity, blocks = min(Self.growthBlocks, targetCapacity - filledCapacity)
        growthLock.unlock()
        guard blocks > 0 else { return }
        let zeros = [UInt8](repeating: 0, count: blocks * Self.blockSize)
        let written = pwrite(fd, zeros, zeros.count, off_t((1 + start) * Self.blockSize)) == zeros.count
        let failure = errno
        growthLock.lock()
        if written { filledCapacity += blocks } else { targetCapacity = filledCapacity }  // keep the ring it has
        growthLock.unlock()
        guard written else { throw LedgerError(code: .io, operation: "grow journal", message: "cannot extend \(path): errno \(failure)") }
    }

    /// Takes in what `grow()` filled (flusher thread, between rounds).
    private func adoptGrowth() {
        growthLock.lock()
        let filled = filledCapacity
        growthLock.unlock()
        guard filled > capacity else { return }
        blockTransaction.append(contentsOf: repeatElement(0, count: filled - capacity))
        capacity = filled
    }

    /// On a clean stop, after the last checkpoint: erases the checkpoint record (the snapshot it names
    /// is unpinned once this process exits) but keeps the entries, which a live process's older
    /// checkpoint may still need after a power loss. The next process to open deletes the file.
    func retire() throws(LedgerError) {
        let zeros = [UInt8](repeating: 0, count: 2 * CheckpointSlots.slotSize)
        guard pwrite(fd, zeros, zeros.count, 0) == zeros.count else {
            throw LedgerError(code: .io, operation: "retire journal", message: "cannot write \(path): errno \(errno)")
        }
    }

    /// Blocks an entry with `payloadBytes` of charges takes.
    static func blocks(forPayload payloadBytes: Int) -> Int { max(1, (payloadBytes + payloadPerBlock - 1) / payloadPerBlock) }

    /// Whether entries needing `blocks` blocks can be written without overwriting an entry newer than
    /// `durableThrough` (the last checkpoint's snapshot); false means: checkpoint first.
    func fits(blocks: Int, durableThrough: UInt64) -> Bool {
        adoptGrowth()
        guard blocks <= capacity / 2 else { return false }
        let start = next + blocks > capacity ? 0 : next
        return blockTransaction[start..<(start + blocks)].allSatisfy { $0 <= durableThrough }
    }

    /// Writes `entries` in one synchronous write (two when the ring wraps); they are durable on return.
    /// The caller checked `fits` for their blocks.
    func append(_ entries: [JournalEntry]) throws(LedgerError) {
        let total = entries.reduce(0) { $0 + Self.blocks(forPayload: $1.payload.count) }
        if next + total > capacity { next = 0 }
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(total * Self.blockSize)
        for entry in entries { encode(entry) }
        let bytes = buffer.count
        let written = buffer.withUnsafeBytes { pwrite(fd, $0.baseAddress, bytes, off_t((1 + next) * Self.blockSize)) }
        guard written == bytes else {
            throw LedgerError(code: .io, operation: "write journal", message: "cannot write \(path): errno \(errno)")
        }
        var block = next
        for entry in entries {
            for _ in 0..<Self.blocks(forPayload: entry.payload.count) {
                blockTransaction[block] = entry.transactionId
                block += 1
            }
        }
        next = block
        if !used {
            growthLock.lock()
            used = true
            growthLock.unlock()
        }
    }

    /// Records `checkpoint` in the head (one synchronous write): from now on a recovery may start from it.
    func record(_ checkpoint: CheckpointRecord) throws(LedgerError) {
        let slot = CheckpointSlots.encode(checkpoint)
        guard pwrite(fd, slot, slot.count, off_t(CheckpointSlots.offset(of: checkpoint))) == slot.count else {
            throw LedgerError(code: .io, operation: "record checkpoint", message: "cannot write \(path): errno \(errno)")
        }
    }

    private func encode(_ entry: JournalEntry) {
        let parts = Self.blocks(forPayload: entry.payload.count)
        for part in 0..<parts {
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: Self.blockSize))
            let payloadStart = part * Self.payloadPerBlock
            let payloadCount = min(Self.payloadPerBlock, entry.payload.count - payloadStart)
            buffer.withUnsafeMutableBytes { raw in
                let block = UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + Self.blockSize)])
                block.setUInt32(Self.magic, at: 0)
                block.setUInt64(epoch, at: 8)
                block.setUInt64(entry.transactionId, at: 16)
                block.setInt64(entry.nowMs, at: 24)
                block.setUInt16(UInt16(part), at: 32)
                block.setUInt16(UInt16(parts), at: 34)
                block.setUInt16(UInt16(payloadCount), at: 36)
                if payloadCount > 0 {
                    entry.payload.withUnsafeBytes { payload in
                        UnsafeMutableRawBufferPointer(rebasing: block[Self.headerSize..<(Self.headerSize + payloadCount)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: payload[payloadStart..<(payloadStart + payloadCount)]))
                    }
                }
                block.setUInt32(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: block[8..<(Self.headerSize + payloadCount)])), at: 4)
            }
        }
    }

    // MARK: Recovery and clean-up (while opening, under the checkpoint lock)

    /// Every intact entry of `epoch` newer than `snapshot`, from every journal in the data directory,
    /// in transaction order.
    static func entries(in dataDirectory: String, epoch: UInt64, after snapshot: UInt64) -> [JournalEntry] {
        var found: [UInt64: JournalEntry] = [:]
        for file in journalFiles(in: dataDirectory) {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            var parts: [UInt64: (nowMs: Int64, count: Int, pieces: [Int: [UInt8]])] = [:]
            data.withUnsafeBytes { raw in
                var offset = blockSize
                while offset + blockSize <= raw.count {
                    let block = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + blockSize)])
                    offset += blockSize
                    let length = Int(block.uint16(at: 36))
                    guard block.uint32(at: 0) == magic, block.uint64(at: 8) == epoch, length <= payloadPerBlock,
                          block.uint32(at: 4) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: block[8..<(headerSize + length)])) else { continue }
                    let transaction = block.uint64(at: 16)
                    let part = Int(block.uint16(at: 32)), count = Int(block.uint16(at: 34))
                    guard transaction > snapshot, part < count else { continue }
                    var entry = parts[transaction] ?? (block.int64(at: 24), count, [:])
                    entry.pieces[part] = Array(block[headerSize..<(headerSize + length)])
                    parts[transaction] = entry
                }
            }
            for (transaction, entry) in parts where entry.pieces.count == entry.count {
                let payload = (0..<entry.count).flatMap { entry.pieces[$0]! }
                found[transaction] = JournalEntry(transactionId: transaction, nowMs: entry.nowMs, payload: payload)
            }
        }
        return found.keys.sorted().map { found[$0]! }
    }

    /// What a journal file says about its process, read while opening (under `CheckpointLock`).
    struct Survey {
        let path: String
        /// Locked by a live process.
        let live: Bool
        /// The process's newest checkpoint, if it recorded one.
        let checkpoint: CheckpointRecord?
    }

    /// Every journal in the data directory, with its owner's liveness and newest checkpoint.
    static func survey(in dataDirectory: String) -> [Survey] {
        journalFiles(in: dataDirectory).map { file in
            var live = false
            var head = [UInt8](repeating: 0, count: 2 * CheckpointSlots.slotSize)
            var headBytes = 0
            let fd = open(file, O_RDWR | O_CLOEXEC)
            if fd >= 0 {
                live = flock(fd, LOCK_EX | LOCK_NB) != 0
                headBytes = max(0, pread(fd, &head, head.count, 0))
                close(fd)
            }
            return Survey(path: file, live: live, checkpoint: headBytes == head.count ? CheckpointSlots.newest(in: head) : nil)
        }
    }

    /// Deletes the journals no live process holds, except `keeping` (call once a checkpoint covers
    /// their entries).
    static func removeAbandoned(in dataDirectory: String, keeping: String?) {
        for file in journalFiles(in: dataDirectory) where file != keeping {
            let fd = open(file, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(file) }
            close(fd)
        }
    }

    private static func journalFiles(in dataDirectory: String) -> [String] {
        let directory = directory(in: dataDirectory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".wal") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }

    static func syncDirectory(_ directory: String) throws(LedgerError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(code: .io, operation: "sync directory", message: "cannot open \(directory): errno \(errno)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LedgerError(code: .io, operation: "sync directory", message: "cannot fsync \(directory): errno \(errno)") }
    }
}
