import Foundation
@testable import Policy
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = "ledger") {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("edge-\(label)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A clock tests move by hand.
///
/// `@unchecked Sendable`: `current` is only read and written with `lock` held.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    func set(_ date: Date) {
        lock.lock()
        current = date
        lock.unlock()
    }

    var ledgerClock: LedgerClock { LedgerClock { [self] in now } }
}

/// Plans used by the tests: mirrors policies/default.yaml.
let testPlans = PlanCatalog(defaultPlan: "free", plans: [
    "free": Plan(name: "free", monthlyTokens: 200, rollover: false, rolloverCap: nil),
    "basic": Plan(name: "basic", monthlyTokens: 2000, rollover: false, rolloverCap: nil),
    "professional": Plan(name: "professional", monthlyTokens: 10_000, rollover: true, rolloverCap: 20_000),
])

/// Cheap scrypt parameters so account tests stay fast (the standard cost is exercised once).
let cheapHasher = PasswordHasher(parameters: .init(logN: 10, r: 8, p: 1))

/// Opens a ledger in `directory`.
func openLedger(_ directory: TemporaryDirectory, durable: Bool = true, clock: LedgerClock = .system,
                options: LedgerOptions = .standard) throws -> Ledger {
    try Ledger.open(directory: directory.path, settings: LedgerSettings(mapSizeMiB: 64, durable: durable), plans: testPlans,
                    clock: clock, options: options)
}

/// An instant from UTC calendar fields.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12, _ minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

/// The built `edgeproxy` binary, next to this test bundle in the build directory.
func edgeproxyBinary() throws -> String {
    let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    var directory = (me as NSString).deletingLastPathComponent
    // On Linux the test runner is `<build>/debug/<package>PackageTests.xctest`; the CLI sits beside it.
    for _ in 0..<3 {
        let candidate = (directory as NSString).appendingPathComponent("edgeproxy")
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = (directory as NSString).deletingLastPathComponent
    }
    throw TestProcessError("edgeproxy binary not found near \(me); build it with `swift build --build-tests`")
}

/// The repository's default policy file.
let defaultPolicyPath: String = {
    let here = URL(fileURLWithPath: #filePath)
    return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies/default.yaml").path
}()

struct TestProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a finished `edgeproxy` run printed.
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// Runs `edgeproxy <command> <subcommand> …` with `--data-dir`/`--config` added, and waits for it.
func runEdgeproxy(_ arguments: [String], dataDir: String, stdin: String? = nil) throws -> CommandRun {
    let process = try makeEdgeproxy(arguments, dataDir: dataDir)
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandRun(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
}

/// A configured, not yet started `edgeproxy` process.
func makeEdgeproxy(_ arguments: [String], dataDir: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try edgeproxyBinary())
    // Every ledger command is two words deep (`users add`, `ledger verify` …); its options follow.
    let split = min(2, arguments.count)
    process.arguments = Array(arguments[..<split]) + ["--data-dir", dataDir, "--config", defaultPolicyPath] + Array(arguments[split...])
    var environment = ProcessInfo.processInfo.environment
    environment["EDGE_DATA_DIR"] = dataDir
    process.environment = environment
    process.currentDirectoryURL = URL(fileURLWithPath: dataDir).deletingLastPathComponent()
    return process
}
