/// Process-level tuning of a `Ledger` that does not belong in the policy file.
public struct LedgerOptions: Sendable {
    /// Most mutations applied in one write transaction. 1 turns group commit off (one transaction and
    /// one commit per mutation) — only for the benchmark's comparison.
    public var maxBatchSize: Int
    /// How often (seconds) a checkpoint flushes commits to the data file: with `LedgerSettings.durable
    /// == false` the only flush; in durable mode the longest a journaled charge waits for one.
    public var lazySyncInterval: Double
    /// The charge journal's ring (durable mode): charges made durable between two checkpoints must fit.
    public var journalBytes: Int
    /// A session whose last use is older than this (seconds) is reported as `sessionRefreshDue`.
    public var sessionRefreshInterval: Double
    /// Sessions live this long after their last use (seconds) unless created with another lifetime.
    public var sessionLifetime: Double
    /// LMDB reader slots (one per `LedgerReader` and per concurrent read), shared by all processes.
    public var maxReaders: Int
    /// Runs on the writer thread after each round of completions: a committed batch's, or a flush's that
    /// released results waiting to be durable. Lets a consumer buffer results
    /// in its completions and wake each event loop once per batch instead of once per mutation.
    public var afterBatch: (@Sendable () -> Void)?
    /// Runs on the writer thread after each commit with the number of mutations it carried and the
    /// nanoseconds from the transaction's start to the end of its commit (metrics).
    public var onCommit: (@Sendable (_ mutations: Int, _ nanoseconds: Int64) -> Void)?
    /// Runs on the flusher thread (durable mode) after each round of charges became durable, with the
    /// nanoseconds they waited for it: the journal write, or a checkpoint when the ring was full (metrics).
    public var onJournalWrite: (@Sendable (_ nanoseconds: Int64) -> Void)?
    /// Runs on the checkpoint thread after each checkpoint with the nanoseconds it took (metrics).
    public var onCheckpoint: (@Sendable (_ nanoseconds: Int64) -> Void)?

    public init(maxBatchSize: Int = 4096, lazySyncInterval: Double = 1, sessionRefreshInterval: Double = 300,
                sessionLifetime: Double = 30 * 86_400, maxReaders: Int = 1024, journalBytes: Int = 8 << 20, afterBatch: (@Sendable () -> Void)? = nil,
                onCommit: (@Sendable (_ mutations: Int, _ nanoseconds: Int64) -> Void)? = nil,
                onJournalWrite: (@Sendable (_ nanoseconds: Int64) -> Void)? = nil,
                onCheckpoint: (@Sendable (_ nanoseconds: Int64) -> Void)? = nil) {
        self.onCommit = onCommit
        self.onJournalWrite = onJournalWrite
        self.onCheckpoint = onCheckpoint
        self.maxBatchSize = max(1, maxBatchSize)
        self.lazySyncInterval = lazySyncInterval
        self.sessionRefreshInterval = sessionRefreshInterval
        self.sessionLifetime = sessionLifetime
        self.maxReaders = maxReaders
        self.journalBytes = journalBytes
        self.afterBatch = afterBatch
    }

    /// The defaults.
    public static let standard = LedgerOptions()
}
