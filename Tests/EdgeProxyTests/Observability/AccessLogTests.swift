import EdgeProxy
import Foundation
import Testing

extension Observability {
    @Suite("Observability: access log output")
    struct AccessLogTests {
        @Test("Lines logged from many threads into one O_APPEND file arrive whole, one JSON object per line")
        func concurrentFileWriters() async throws {
            let path = temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            let log = try AccessLog.fromEnvironment(path)
            #expect(log.isEnabled)
            let (threads, perThread) = (8, 250)
            // Paths of up to ~3 KB keep lines below PIPE_BUF but far from trivially small.
            await withTaskGroup(of: Void.self) { tasks in
                for thread in 0..<threads {
                    tasks.addTask {
                        await Task.detached {
                            for index in 0..<perThread {
                                log.log(record(id: "t\(thread)-\(index)", pathBytes: (index * 37) % 3000))
                            }
                        }.value
                    }
                }
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == threads * perThread)
            var ids = Set<String>()
            for line in lines {
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line.prefix(80))")
                let id = try #require(object["requestId"] as? String)
                ids.insert(id)
                let index = try #require(Int(id.split(separator: "-")[1]))
                #expect((object["path"] as? String)?.utf8.count == 1 + (index * 37) % 3000)
            }
            #expect(ids.count == threads * perThread)
        }

        @Test("A second writer appends to an existing file instead of truncating it")
        func appends() throws {
            let path = temporaryPath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            try AccessLog.file(path: path).log(record(id: "first", pathBytes: 1))
            try AccessLog.file(path: path).log(record(id: "second", pathBytes: 1))
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines[0].contains(#""requestId":"first""#) && lines[1].contains(#""requestId":"second""#))
            #expect(lines.allSatisfy { $0.hasPrefix(#"{"time":""#) }, "no prefix before the JSON object")
        }

        @Test("EDGE_ACCESS_LOG: unset and stdout log to standard output, off disables, a bad path throws")
        func environment() throws {
            #expect(try AccessLog.fromEnvironment(nil).isEnabled)
            #expect(try AccessLog.fromEnvironment("stdout").isEnabled)
            #expect(try AccessLog.fromEnvironment("").isEnabled)
            let off = try AccessLog.fromEnvironment("off")
            #expect(!off.isEnabled)
            off.log(record(id: "dropped", pathBytes: 1))
            #expect(!AccessLog.disabled.isEnabled)
            #expect(AccessLog.label == "edge.access")
            #expect(throws: AccessLogError.self) {
                _ = try AccessLog.fromEnvironment("/nonexistent-\(UUID().uuidString)/access.log")
            }
        }
    }
}

private func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("edge-access-\(UUID().uuidString).log").path
}

private func record(id: String, pathBytes: Int) -> AccessLogRecord {
    AccessLogRecord(
        requestId: id, method: "POST", route: "v1_generations", path: "/" + String(repeating: "p", count: pathBytes) + "?k=v",
        status: 200, bytesIn: 10, bytesOut: 20, edgeMs: 1.5, upstreamMs: 1.2, userId: "usr_1", tokensCharged: 3,
        operation: "generate", client: "198.51.100.1", outcome: .forwarded)
}
