import ArgumentParser
import Policy

/// `edgeproxy tokens …`: grant tokens and show balances.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Grant tokens and show balances and history.",
        subcommands: [Grant.self, Show.self])

    /// `tokens grant EMAIL AMOUNT [--reason R]`.
    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add tokens to a user's balance.")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "E-mail address.") var email: String
        // Collects unrecognised words too, so that "-5" reaches `parseAmount` and gets a clear refusal
        // instead of being taken for an option.
        @Argument(parsing: .allUnrecognized, help: "Tokens to add: a whole number greater than zero.") var amount: [String] = []
        @Option(help: "Why (kept in the history).") var reason = "granted by operator"

        func run() throws {
            try runReporting {
                guard amount.count == 1 else {
                    throw CommandFailure(amount.isEmpty ? "missing AMOUNT (a whole number of tokens)" : "expected one AMOUNT, got \(amount.joined(separator: " "))")
                }
                let tokens = try parseAmount(amount[0])
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let user = try requireUser(ledger, email: email)
                let entry = try ledger.grant(userId: user.id, amount: tokens, reason: reason, actor: commandActor)
                print("granted \(tokens) tokens to \(user.email); balance \(entry.balanceAfter)")
            }
        }
    }

    /// `tokens show EMAIL [--history N] [--json]`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user's balance, and optionally recent history.")

        @OptionGroup var location: LedgerLocation
        @Argument(help: "E-mail address.") var email: String
        @Option(help: "Also show the last N transactions.") var history = 0
        @Flag(help: "Print one JSON object.") var json = false

        struct Entry: Encodable {
            var sequence: UInt64, kind: String, operation: String, delta: Int64, balance_after: Int64
            var time: String, request_id: String, actor: String, memo: String
        }

        struct Report: Encodable {
            var user_id: UInt64, email: String, plan: String, balance: Int64, held: Int64, available: Int64
            var period_start: String, period_end: String, history: [Entry]?
        }

        func run() throws {
            try runReporting {
                guard history >= 0 else { throw CommandFailure("--history must not be negative") }
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let user = try requireUser(ledger, email: email)
                guard let balance = try ledger.balance(userId: user.id) else { throw CommandFailure("\(user.email) has no balance record") }
                let entries = try ledger.history(userId: user.id, limit: history).map {
                    Entry(sequence: $0.sequence, kind: $0.kind.description, operation: $0.operation, delta: $0.delta,
                          balance_after: $0.balanceAfter, time: isoDate($0.time), request_id: $0.requestId, actor: $0.actor, memo: $0.memo)
                }
                let report = Report(user_id: user.id.rawValue, email: user.email, plan: balance.plan, balance: balance.balance,
                                    held: balance.held, available: balance.available, period_start: isoDate(balance.periodStart),
                                    period_end: isoDate(balance.periodEnd), history: history > 0 ? entries : nil)
                if json {
                    print(try jsonLine(report))
                    return
                }
                print("\(user.email) (user \(user.id), \(balance.plan))")
                print("balance \(balance.balance)  held \(balance.held)  available \(balance.available)")
                print("period \(report.period_start) → \(report.period_end)")
                if history > 0 {
                    print("seq\ttime\tkind\toperation\tdelta\tbalance\tactor\tmemo")
                    for e in entries {
                        print("\(e.sequence)\t\(e.time)\t\(e.kind)\t\(e.operation)\t\(e.delta)\t\(e.balance_after)\t\(e.actor)\t\(e.memo)")
                    }
                }
            }
        }
    }
}
