import ArgumentParser
import Foundation
import Policy

/// Options shared by every ledger command: where the policy and the data directory are.
struct LedgerLocation: ParsableArguments {
    @Option(name: .long, help: "Policy file for plans and ledger settings (default: $EDGE_CONFIG or policies/default.yaml).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "Ledger data directory (default: $EDGE_DATA_DIR or ./.edge-data).")
    var dataDirectory: String?

    /// Loads the policy and opens the ledger; prints a clear message and exits on failure.
    func open(options: LedgerOptions = .standard) throws -> (Ledger, EdgePolicy) {
        let environment = EdgeEnvironment.load()
        let path = config ?? PolicyLoader.defaultPath(environment: environment)
        let policy: EdgePolicy
        do {
            policy = try PolicyLoader.load(path: path, environment: environment)
        } catch {
            throw CommandFailure("\(path): invalid policy: \(error)")
        }
        let directory = dataDirectory ?? environment.dataDirectory
        do {
            let ledger = try Ledger.open(directory: directory, settings: policy.ledger, plans: policy.plans, options: options)
            return (ledger, policy)
        } catch {
            throw CommandFailure("cannot open the ledger in \(directory): \(error)")
        }
    }
}

/// A failure already explained to the user: `run()` prints the message to stderr and exits non-zero.
struct CommandFailure: Error {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    /// Describes a ledger refusal or fault for an operator.
    init(_ error: LedgerError) {
        self.init(error.isStorageFault ? "ledger error: \(error)" : error.message)
    }
}

/// Runs a command body, turning `CommandFailure` and `LedgerError` into a stderr line and an exit code.
func runReporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as CommandFailure {
        printError("error: \(failure.message)")
        throw ExitCode(failure.exitCode)
    } catch let error as LedgerError {
        printError("error: \(CommandFailure(error).message)")
        throw ExitCode(1)
    }
}

/// Looks a user up by e-mail or fails with a clear message.
func requireUser(_ ledger: Ledger, email: String) throws -> UserAccount {
    guard UserAccount.normalizedEmail(email) != nil else { throw CommandFailure("'\(email)' is not a valid e-mail address") }
    guard let user = try ledger.user(email: email) else { throw CommandFailure("no user with e-mail \(email)") }
    return user
}

/// Parses a token amount typed by an operator: digits only, greater than zero, within 64 bits.
func parseAmount(_ text: String) throws -> Int64 {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { throw CommandFailure("the amount is empty") }
    if trimmed.hasPrefix("-") { throw CommandFailure("the amount must be positive, not \(trimmed)") }
    guard trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
        throw CommandFailure("'\(trimmed)' is not a whole number of tokens")
    }
    guard let amount = Int64(trimmed) else { throw CommandFailure("\(trimmed) is too large (at most \(Int64.max))") }
    guard amount > 0 else { throw CommandFailure("the amount must be greater than zero") }
    return amount
}

/// Who the CLI acts as, recorded on grants and plan changes.
var commandActor: String {
    "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown")
}

/// ISO 8601 in UTC, to the second.
func isoDate(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

/// Encodes `value` as one line of JSON with sorted keys.
func jsonLine(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
