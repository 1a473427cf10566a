import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// The README's example: a third-party filter, registered by name and listed on a route.
struct RequireTenantFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        guard let tenant = request.header("X-Tenant"), tenant.readableBytes > 0 else {
            return .respond(EdgeReply(status: 400, code: "missing_tenant", message: "Send an X-Tenant header"))
        }
        return .continue
    }

    func responseHead(status: Int, _ exchange: inout ExchangeContext) -> FilterDecision {
        exchange.responseHeaders.add("X-Tenant-Checked", "yes")
        return .continue
    }
}

/// A filter that waits on a future (as a call to an external service would) before continuing.
struct DelayingFilter: EdgeFilter {
    func requestHead(_ request: EdgeRequest, _ exchange: inout ExchangeContext) -> FilterDecision {
        let promise = exchange.eventLoop.makePromise(of: FilterResolution.self)
        exchange.eventLoop.scheduleTask(in: .milliseconds(50)) {
            promise.succeed(.continueAfter { exchange in exchange.responseHeaders.add("X-Delayed", "50ms") })
        }
        return .suspend(promise.futureResult)
    }
}

@Suite("Custom filters registered by an embedding program")
struct CustomFilterTests {
    static var registry: FilterRegistry {
        var registry = FilterRegistry.builtIn
        registry.register("require_tenant", RequireTenantFilter())
        registry.register("delay", DelayingFilter())
        return registry
    }

    static func onAppRoute(_ filters: [String]) -> (inout EdgePolicy) -> Void {
        { policy in
            var routes = policy.routes.routes
            for i in routes.indices where routes[i].id == "app" { routes[i].filters = filters }
            policy.routes = RouteTable(routes)
        }
    }

    @Test("A registered filter answers locally, adds response headers, and can suspend")
    func customFilter() async throws {
        try await withEdge(filters: Self.registry, adjust: Self.onAppRoute(["require_tenant", "delay"])) { edge in
            let client = try await edge.client()
            let refused = try await client.send(method: .GET, path: "/dashboard/projects")
            #expect(refused.status == .badRequest)
            #expect(refused.bodyText.contains("missing_tenant"))
            #expect(edge.standIn.requestCount == 0)

            let passed = try await client.send(method: .GET, path: "/dashboard/projects", headers: ["X-Tenant": "acme"])
            #expect(passed.status == .ok)
            #expect(passed.headers["X-Tenant-Checked"].first == "yes")
            #expect(passed.headers["X-Delayed"].first == "50ms")
            #expect(edge.standIn.requestCount == 1)
            await client.close()
        }
    }

    @Test("A route naming an unregistered filter is refused at start, naming the key")
    func unknownFilter() async throws {
        await #expect(throws: PolicyError.self) {
            try await withEdge(adjust: Self.onAppRoute(["no_such_filter"])) { _ in }
        }
    }
}
