import CLMDB
import Testing
@testable import Policy

/// Every Swift-side LMDB constant against the C header's, so a mapping slip fails here, not in production.
@Suite struct LedgerFlagTests {
    @Test(arguments: [
        ("noSubdirectory", LMDBEnvironmentFlags.noSubdirectory.rawValue, UInt32(MDB_NOSUBDIR)),
        ("noSync", LMDBEnvironmentFlags.noSync.rawValue, UInt32(MDB_NOSYNC)),
        ("readOnly", LMDBEnvironmentFlags.readOnly.rawValue, UInt32(MDB_RDONLY)),
        ("noMetaSync", LMDBEnvironmentFlags.noMetaSync.rawValue, UInt32(MDB_NOMETASYNC)),
        ("writeMap", LMDBEnvironmentFlags.writeMap.rawValue, UInt32(MDB_WRITEMAP)),
        ("noTLS", LMDBEnvironmentFlags.noTLS.rawValue, UInt32(MDB_NOTLS)),
        ("noLock", LMDBEnvironmentFlags.noLock.rawValue, UInt32(MDB_NOLOCK)),
        ("noReadAhead", LMDBEnvironmentFlags.noReadAhead.rawValue, UInt32(MDB_NORDAHEAD)),
        ("reverseKey", LMDBDatabaseFlags.reverseKey.rawValue, UInt32(MDB_REVERSEKEY)),
        ("duplicateSort", LMDBDatabaseFlags.duplicateSort.rawValue, UInt32(MDB_DUPSORT)),
        ("integerKey", LMDBDatabaseFlags.integerKey.rawValue, UInt32(MDB_INTEGERKEY)),
        ("create", LMDBDatabaseFlags.create.rawValue, UInt32(MDB_CREATE)),
        ("noOverwrite", LMDBWriteFlags.noOverwrite.rawValue, UInt32(MDB_NOOVERWRITE)),
        ("current", LMDBWriteFlags.current.rawValue, UInt32(MDB_CURRENT)),
        ("reserve", LMDBWriteFlags.reserve.rawValue, UInt32(MDB_RESERVE)),
        ("append", LMDBWriteFlags.append.rawValue, UInt32(MDB_APPEND)),
    ])
    func flagMatchesC(name: String, swift: UInt32, c: UInt32) {
        #expect(swift == c, "\(name): Swift \(swift) vs C \(c)")
    }

    @Test(arguments: [
        ("success", LMDBStatus.success, MDB_SUCCESS),
        ("keyExists", LMDBStatus.keyExists, MDB_KEYEXIST),
        ("notFound", LMDBStatus.notFound, MDB_NOTFOUND),
        ("corrupted", LMDBStatus.corrupted, MDB_CORRUPTED),
        ("panic", LMDBStatus.panic, MDB_PANIC),
        ("versionMismatch", LMDBStatus.versionMismatch, MDB_VERSION_MISMATCH),
        ("invalid", LMDBStatus.invalid, MDB_INVALID),
        ("mapFull", LMDBStatus.mapFull, MDB_MAP_FULL),
        ("readersFull", LMDBStatus.readersFull, MDB_READERS_FULL),
        ("mapResized", LMDBStatus.mapResized, MDB_MAP_RESIZED),
        ("badTransaction", LMDBStatus.badTransaction, MDB_BAD_TXN),
    ])
    func statusMatchesC(name: String, swift: Int32, c: Int32) {
        #expect(swift == c, "\(name): Swift \(swift) vs C \(c)")
    }

    @Test func errorsCarryStrerrorAndCategory() {
        let error = LMDBEnvironment.error(LMDBStatus.mapFull, "mdb_put")
        #expect(error.code == .mapFull)
        #expect(error.operation == "mdb_put")
        #expect(error.message.contains("MDB_MAP_FULL"))
        #expect(error.isStorageFault)
        #expect(LMDBEnvironment.error(5, "read").code == .io)
    }
}
