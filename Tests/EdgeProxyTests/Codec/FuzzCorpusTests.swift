import Foundation
import Testing

/// Keeps the fuzzer's seed corpus (Tests/Fuzz/corpus/, one file per unit-test input) in sync with
/// `CodecCorpus`. Regenerate after adding cases:
/// `EDGE_WRITE_FUZZ_CORPUS=1 swift test --filter CodecFuzzCorpusTests`.
@Suite struct CodecFuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    /// Every seed: file name and bytes.
    static var seeds: [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for c in CodecCorpus.allRequests { out.append(("req-\(c.name)", c.input)) }
        for c in CodecCorpus.chunked { out.append((c.name, CodecCorpus.chunkedHead + c.wire)) }
        for c in CodecCorpus.responses { out.append((c.name, c.input)) }
        for (i, input) in CodecDifferentialTests.baseRequests.enumerated() { out.append(("base-\(i)", input)) }
        return out
    }

    @Test func seedCorpusMatchesTheUnitCases() throws {
        let names = Self.seeds.map(\.0)
        #expect(Set(names).count == names.count, "seed names must be unique")
        if ProcessInfo.processInfo.environment["EDGE_WRITE_FUZZ_CORPUS"] != nil {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            for (name, bytes) in Self.seeds {
                try Data(bytes).write(to: Self.directory.appendingPathComponent(name))
            }
        }
        for (name, bytes) in Self.seeds {
            let file = Self.directory.appendingPathComponent(name)
            let stored = try? Data(contentsOf: file)
            #expect(stored.map(Array.init) == bytes, "\(file.path) is missing or stale; regenerate with EDGE_WRITE_FUZZ_CORPUS=1")
        }
    }
}
