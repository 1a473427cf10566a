import EdgeProxy
import NIOCore
import NIOPosix
import Testing

/// Namespace of the observability suites, so `--filter Observability` selects exactly them.
enum Observability {}

extension Observability {
    @Suite("Observability: EdgeMetrics and LoopMetrics")
    struct MetricsTests {
        @Test("Events recorded through a LoopMetrics on an event loop appear in the exposition with their labels")
        func familiesAndLabels() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let metrics = EdgeMetrics()
            try await group.next().submit {
                let loop = metrics.makeLoopMetrics()
                for _ in 0..<3 {
                    loop.requestFinished(route: "v1_generations", status: 402, edgeNanoseconds: 2_000_000, upstreamNanoseconds: nil)
                }
                loop.requestFinished(route: "v1_generations", status: 200, edgeNanoseconds: 120_000_000, upstreamNanoseconds: 100_000_000)
                loop.requestFinished(route: "v1_vectorize", status: 200, edgeNanoseconds: 70_000_000_000, upstreamNanoseconds: 300_000)
                loop.tokensCharged(operation: "vectorize", amount: 10)
                loop.tokensCharged(operation: "vectorize", amount: 5)
                loop.tokensCharged(operation: "vectorize", amount: 0)
                loop.tokensCharged(operation: "vectorize", amount: -3)
                loop.holdReleased()
                loop.holdReleased()
                loop.securityEvent(.authFailure)
                loop.securityEvent(.upstreamUnauthorized)
                loop.securityEvent(.upstreamUnauthorized)
                loop.connectionOpened()
                loop.connectionOpened()
                loop.connectionClosed()
                loop.upstreamConnectFailed(upstream: "images")
                loop.upstreamConnectFailed(upstream: "images")
            }.get()
            // The ledger writer records from its own thread.
            await Task.detached {
                metrics.ledgerBatchCommitted(size: 3, commitNanoseconds: 1_500_000)
                metrics.ledgerJournalWritten(nanoseconds: 180_000)
                metrics.ledgerJournalWritten(nanoseconds: 30_000_000)
                metrics.ledgerCheckpointed(nanoseconds: 4_000_000)
            }.value

            let lines = Set(metrics.render().split(separator: "\n").map(String.init))
            let expected = [
                "# TYPE edge_requests_total counter",
                #"edge_requests_total{route="v1_generations",status="402"} 3"#,
                #"edge_requests_total{route="v1_generations",status="200"} 1"#,
                #"edge_requests_total{route="v1_vectorize",status="200"} 1"#,
                "# TYPE edge_request_duration_seconds histogram",
                #"edge_request_duration_seconds_bucket{route="v1_generations",le="0.0005"} 0"#,
                #"edge_request_duration_seconds_bucket{route="v1_generations",le="0.0025"} 3"#,
                #"edge_request_duration_seconds_bucket{route="v1_generations",le="0.25"} 4"#,
                #"edge_request_duration_seconds_bucket{route="v1_generations",le="60.0"} 4"#,
                #"edge_request_duration_seconds_count{route="v1_generations"} 4"#,
                #"edge_request_duration_seconds_bucket{route="v1_vectorize",le="60.0"} 0"#,
                #"edge_request_duration_seconds_bucket{route="v1_vectorize",le="+Inf"} 1"#,
                #"edge_upstream_duration_seconds_bucket{route="v1_generations",le="0.05"} 0"#,
                #"edge_upstream_duration_seconds_bucket{route="v1_generations",le="0.1"} 1"#,
                #"edge_upstream_duration_seconds_count{route="v1_generations"} 1"#,
                #"edge_upstream_duration_seconds_bucket{route="v1_vectorize",le="0.0005"} 1"#,
                #"edge_tokens_charged_total{operation="vectorize"} 15"#,
                "edge_holds_released_total 2",
                #"edge_security_events_total{kind="auth_failure"} 1"#,
                #"edge_security_events_total{kind="origin_violation"} 0"#,
                #"edge_security_events_total{kind="rejected_request"} 0"#,
                #"edge_security_events_total{kind="upstream_unauthorized"} 2"#,
                "# TYPE edge_open_connections gauge",
                "edge_open_connections 1.0",
                #"edge_upstream_connect_failures_total{upstream="images"} 2"#,
                "# TYPE edge_ledger_batch_size histogram",
                #"edge_ledger_batch_size_bucket{le="2.0"} 0"#,
                #"edge_ledger_batch_size_bucket{le="4.0"} 1"#,
                #"edge_ledger_batch_size_bucket{le="4096.0"} 1"#,
                "edge_ledger_batch_size_count 1",
                #"edge_ledger_commit_seconds_bucket{le="0.001"} 0"#,
                #"edge_ledger_commit_seconds_bucket{le="0.0025"} 1"#,
                "edge_ledger_commit_seconds_count 1",
                #"edge_ledger_journal_write_seconds_bucket{le="0.0001"} 0"#,
                #"edge_ledger_journal_write_seconds_bucket{le="0.00025"} 1"#,
                #"edge_ledger_journal_write_seconds_bucket{le="0.025"} 1"#,
                #"edge_ledger_journal_write_seconds_bucket{le="0.05"} 2"#,
                "edge_ledger_journal_write_seconds_count 2",
                #"edge_ledger_checkpoint_seconds_bucket{le="0.0025"} 0"#,
                #"edge_ledger_checkpoint_seconds_bucket{le="0.005"} 1"#,
                "edge_ledger_checkpoint_seconds_count 1",
            ]
            for line in expected {
                #expect(lines.contains(line), "missing: \(line)")
            }
            try await group.shutdownGracefully()
        }

        @Test("Families without per-request labels read 0 before any event; servers never share a registry")
        func freshRegistryPerInstance() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let first = EdgeMetrics()
            let second = EdgeMetrics()
            try await group.next().submit {
                first.makeLoopMetrics().requestFinished(route: "r", status: 200, edgeNanoseconds: 1, upstreamNanoseconds: nil)
            }.get()
            let untouched = second.render()
            #expect(untouched.contains("edge_holds_released_total 0"))
            #expect(untouched.contains("edge_open_connections 0.0"))
            #expect(untouched.contains(#"edge_security_events_total{kind="auth_failure"} 0"#))
            #expect(untouched.contains("edge_ledger_batch_size_count 0"))
            #expect(!untouched.contains("edge_requests_total"))
            #expect(first.render().contains(#"edge_requests_total{route="r",status="200"} 1"#))
            try await group.shutdownGracefully()
        }

        @Test("Loops record concurrently into the same series without losing counts")
        func concurrentLoops() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
            let metrics = EdgeMetrics()
            let loops = Array(group.makeIterator())
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for loop in loops {
                    tasks.addTask {
                        try await loop.submit {
                            let recorder = metrics.makeLoopMetrics()
                            for index in 0..<1000 {
                                recorder.requestFinished(
                                    route: "v1_generations", status: 200, edgeNanoseconds: Int64(index) * 1000,
                                    upstreamNanoseconds: 500)
                                recorder.tokensCharged(operation: "generate", amount: 2)
                                recorder.connectionOpened()
                                recorder.connectionClosed()
                            }
                        }.get()
                    }
                }
                try await tasks.waitForAll()
            }
            let text = metrics.render()
            #expect(text.contains(#"edge_requests_total{route="v1_generations",status="200"} 4000"#))
            #expect(text.contains(#"edge_request_duration_seconds_count{route="v1_generations"} 4000"#))
            #expect(text.contains(#"edge_upstream_duration_seconds_count{route="v1_generations"} 4000"#))
            #expect(text.contains(#"edge_tokens_charged_total{operation="generate"} 8000"#))
            #expect(text.contains("edge_open_connections 0.0"))
            try await group.shutdownGracefully()
        }

        @Test("Label values past the budget, across loops, and odd statuses fold into _other")
        func boundedLabels() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let metrics = EdgeMetrics(maxLabelValues: 2)
            let loops = Array(group.makeIterator())
            try await loops[0].submit {
                let recorder = metrics.makeLoopMetrics()
                for route in ["a", "b", "a"] {
                    recorder.requestFinished(route: route, status: 200, edgeNanoseconds: 1, upstreamNanoseconds: nil)
                }
                recorder.requestFinished(route: "a", status: 1000, edgeNanoseconds: 1, upstreamNanoseconds: nil)
            }.get()
            try await loops[1].submit {
                let recorder = metrics.makeLoopMetrics()
                for route in ["c", "d", "b", "e", "f", "g", "c"] {
                    recorder.requestFinished(route: route, status: 200, edgeNanoseconds: 1, upstreamNanoseconds: nil)
                }
                for upstream in ["u1", "u2", "u3"] {
                    recorder.upstreamConnectFailed(upstream: upstream)
                }
            }.get()
            let text = metrics.render()
            #expect(text.contains(#"edge_requests_total{route="a",status="200"} 2"#))
            #expect(text.contains(#"edge_requests_total{route="b",status="200"} 2"#))
            #expect(text.contains(#"edge_requests_total{route="_other",status="200"} 6"#))
            #expect(text.contains(#"edge_requests_total{route="a",status="_other"} 1"#))
            #expect(!text.contains(#"route="c""#))
            #expect(text.contains(#"edge_upstream_connect_failures_total{upstream="u2"} 1"#))
            #expect(text.contains(#"edge_upstream_connect_failures_total{upstream="_other"} 1"#))
            try await group.shutdownGracefully()
        }
    }
}
