/// Why a ledger operation failed: a category (`code`), the operation that failed, and a message
/// (for storage faults, LMDB's own `mdb_strerror` text).
///
/// Not-found is never an error here: lookups return `nil`. Business refusals — not enough tokens, a hold
/// already settled, an unknown user — are errors with their own codes so a caller can map them to HTTP
/// statuses; `insufficient` carries the numbers for a 402 answer.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A category of failure. New categories are added as static members, so switching callers keep compiling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short stable name, e.g. `insufficient_tokens` or `map_full`.
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        // Business refusals: nothing was changed.
        /// The available balance (balance − held) is smaller than the amount asked for.
        public static let insufficientTokens = Code(rawValue: "insufficient_tokens")
        /// No user has that id or e-mail address.
        public static let unknownUser = Code(rawValue: "unknown_user")
        /// Another user already has this e-mail address (compared case-insensitively).
        public static let duplicateEmail = Code(rawValue: "duplicate_email")
        /// The e-mail address is not plausibly an address.
        public static let invalidEmail = Code(rawValue: "invalid_email")
        /// No hold with that id was ever created.
        public static let unknownHold = Code(rawValue: "unknown_hold")
        /// The hold was already charged or released; a hold settles exactly once.
        public static let holdAlreadySettled = Code(rawValue: "hold_already_settled")
        /// The amount is zero, negative, or would overflow a balance.
        public static let invalidAmount = Code(rawValue: "invalid_amount")
        /// The plan is not in the policy's plan catalog.
        public static let unknownPlan = Code(rawValue: "unknown_plan")
        /// No API key has that key id.
        public static let unknownKey = Code(rawValue: "unknown_key")
        /// An argument is malformed (e.g. a name too long to store).
        public static let invalidArgument = Code(rawValue: "invalid_argument")
        /// An `Idempotency-Key` was reused for a different request.
        public static let idempotencyConflict = Code(rawValue: "idempotency_conflict")
        /// The ledger was closed, or a blocking call was made on the writer thread itself.
        public static let unavailable = Code(rawValue: "unavailable")

        // Storage faults: the operation (and its batch) did not commit.
        /// The memory map is full; raise `ledger.map_size_mib`.
        public static let mapFull = Code(rawValue: "map_full")
        /// Another process grew the map beyond this process's size; use one `map_size_mib` everywhere.
        public static let mapResized = Code(rawValue: "map_resized")
        /// The database file is damaged or not an LMDB file.
        public static let corrupted = Code(rawValue: "corrupted")
        /// Every LMDB reader slot is taken.
        public static let readersFull = Code(rawValue: "readers_full")
        /// The data directory holds a ledger of another format version (or LMDB version).
        public static let versionMismatch = Code(rawValue: "version_mismatch")
        /// An operating-system I/O error (disk full, permissions, …).
        public static let io = Code(rawValue: "io")
        /// libcrypto failed (randomness or hashing); nothing was stored.
        public static let crypto = Code(rawValue: "crypto")
        /// Any other LMDB status; `lmdbStatus` holds the raw code.
        public static let storage = Code(rawValue: "storage")

        // A fault after the commit.
        /// Committed, but the journal write or checkpoint that makes it durable failed: the change stands
        /// and every reader sees it, but a power loss before the next successful checkpoint may undo it.
        public static let notDurable = Code(rawValue: "not_durable")
    }

    /// The numbers behind an `insufficientTokens` refusal.
    public struct Insufficient: Sendable, Equatable {
        /// Tokens the operation needed.
        public var required: Int64
        /// Tokens available at the time (balance − held).
        public var available: Int64
    }

    /// The category of failure.
    public var code: Code
    /// The ledger operation that failed, e.g. `hold` or `mdb_txn_commit`.
    public var operation: String
    /// What went wrong, in words (LMDB's `mdb_strerror` text for storage faults). Never contains a secret.
    public var message: String
    /// The raw LMDB or errno status for storage faults.
    public var lmdbStatus: Int32?
    /// Set for `insufficientTokens`.
    public var insufficient: Insufficient?

    public init(code: Code, operation: String, message: String, lmdbStatus: Int32? = nil, insufficient: Insufficient? = nil) {
        self.code = code
        self.operation = operation
        self.message = message
        self.lmdbStatus = lmdbStatus
        self.insufficient = insufficient
    }

    /// Whether this is a storage fault (the write transaction is unusable) rather than a business refusal.
    public var isStorageFault: Bool {
        switch code {
        case .mapFull, .mapResized, .corrupted, .readersFull, .versionMismatch, .io, .storage: true
        default: false
        }
    }

    public var description: String {
        var text = "\(operation): \(message) [\(code)]"
        if let insufficient { text += " (required \(insufficient.required), available \(insufficient.available))" }
        return text
    }

    /// `cause` (a journal write's or a checkpoint's failure) as the result of a change that had committed.
    static func notDurable(_ cause: LedgerError) -> LedgerError {
        LedgerError(code: .notDurable, operation: cause.operation,
                    message: "committed, but not made durable: \(cause.message) [\(cause.code)]", lmdbStatus: cause.lmdbStatus)
    }

    static func refusal(_ code: Code, _ operation: String, _ message: String) -> LedgerError {
        LedgerError(code: code, operation: operation, message: message)
    }
}
