import ArgumentParser
import Policy

/// `edgeproxy ledger …`: consistency checks, renewals and the group-commit benchmark.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Verify the ledger, apply renewals, benchmark group commit.",
        subcommands: [Verify.self, Renew.self, Purge.self, LedgerBenchCommand.self, LedgerStressCommand.self])

    /// `ledger verify`: exits 1 when an invariant is broken.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every ledger invariant (releasing dead processes' holds first); exits 1 on a violation.")

        @OptionGroup var location: LedgerLocation

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let report = try ledger.verify()
                let released = ledger.recoveredAtOpen.holds + report.releasedDeadHolds
                print("users \(report.users), balances \(report.balances), open holds \(report.openHolds), transactions \(report.transactions), sessions \(report.sessions), API keys \(report.apiKeys); released \(released) holds of dead processes")
                guard report.isConsistent else {
                    for violation in report.violations { printError("violation: \(violation)") }
                    throw CommandFailure("\(report.violations.count) invariant violation(s)")
                }
                print("OK: every invariant holds")
            }
        }
    }

    /// `ledger renew`: applies every due renewal now.
    struct Renew: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every due plan renewal now.")

        @OptionGroup var location: LedgerLocation

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let summary = try ledger.renewAll()
                print("examined \(summary.examined) balances, renewed \(summary.renewed)")
            }
        }
    }

    /// `ledger purge`: deletes expired sessions and stale idempotency records now.
    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete expired sessions and idempotency records older than 24 h.")

        @OptionGroup var location: LedgerLocation

        func run() throws {
            try runReporting {
                let (ledger, _) = try location.open()
                defer { ledger.close() }
                let summary = try ledger.purgeExpired()
                print("deleted \(summary.sessions) expired sessions and \(summary.idempotencyRecords) idempotency records")
            }
        }
    }
}
