import EdgeProxy
import Foundation
import NIOCore
import Policy
import NIOHTTP1
import Testing

@Suite("Graceful shutdown")
struct ShutdownTests {
    @Test("In-flight requests finish during the grace period; new connections are refused")
    func drainsInFlight() async throws {
        let harness = try await EdgeHarness.start()
        let client = try await harness.client()
        async let slow = client.send(
            method: .POST, path: "/v1/images/vectorize", headers: harness.authorized(["X-StandIn-Delay-Ms": "2500"]),
            body: ByteBuffer(string: "{}"))
        // Shut down only once the request is in flight (an idle connection is closed at once, correctly).
        while harness.standIn.requestCount == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let started = ContinuousClock.now
        await harness.edge.shutdown(grace: .seconds(10))
        let response = try await slow
        #expect(response.status == .ok)
        #expect(response.headers["Connection"].first == "close")
        #expect(ContinuousClock.now - started < .seconds(9))
        await #expect(throws: (any Error).self) {
            _ = try await harness.client()
        }
        try? await harness.standIn.shutdown()
    }
}
