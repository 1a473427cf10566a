/// The policy file exactly as written (snake_case YAML), before validation.
///
/// `PolicyLoader` decodes this and compiles it into an immutable `EdgePolicy`; nothing else reads it.
struct PolicyDocument: Decodable {
    var version: Int
    var server: ServerSection?
    var limits: LimitsSection?
    var timeouts: TimeoutsSection?
    var upstreams: [String: UpstreamSection]
    var operations: [String: Int]?
    var plans: PlansSection?
    var ledger: LedgerSection?
    var pricing: PricingSection?
    var authentication: AuthenticationSection?
    var cors: CORSSection?
    var rateLimits: RateLimitsSection?
    var app: AppSection?
    var securityHeaders: [String: String]?
    var routes: [RouteSection]

    enum CodingKeys: String, CodingKey {
        case version, server, limits, timeouts, upstreams, operations, plans, ledger, pricing, authentication, cors, app, routes
        case rateLimits = "rate_limits"
        case securityHeaders = "security_headers"
    }

    struct CORSSection: Decodable {
        var allowedOrigins: [String]?
        var allowHeaders: [String]?
        var maxAgeSeconds: Int?
        var allowCredentials: Bool?
        enum CodingKeys: String, CodingKey {
            case allowedOrigins = "allowed_origins"
            case allowHeaders = "allow_headers"
            case maxAgeSeconds = "max_age_seconds"
            case allowCredentials = "allow_credentials"
        }
    }

    struct RateLimitsSection: Decodable {
        var maxBucketsPerLoop: Int?
        var classes: [String: RateLimitClassSection]
        enum CodingKeys: String, CodingKey {
            case classes
            case maxBucketsPerLoop = "max_buckets_per_loop"
        }
    }

    struct RateLimitClassSection: Decodable {
        var perUser: RateLimitRuleSection?
        var perIP: RateLimitRuleSection?
        enum CodingKeys: String, CodingKey {
            case perUser = "per_user"
            case perIP = "per_ip"
        }
    }

    struct RateLimitRuleSection: Decodable {
        var ratePerMinute: Double
        var burst: Int
        enum CodingKeys: String, CodingKey {
            case ratePerMinute = "rate_per_minute"
            case burst
        }
    }

    struct AppSection: Decodable {
        var protectedPrefixes: [String]?
        var signInPath: String?
        enum CodingKeys: String, CodingKey {
            case protectedPrefixes = "protected_prefixes"
            case signInPath = "sign_in_path"
        }
    }

    struct PricingSection: Decodable {
        var pricedBodyBytes: Int?
        var maxImages: Int?
        var generationRules: [GenerationRuleSection]?
        enum CodingKeys: String, CodingKey {
            case pricedBodyBytes = "priced_body_bytes"
            case maxImages = "max_images"
            case generationRules = "generation_rules"
        }
    }

    struct GenerationRuleSection: Decodable {
        var pathSuffix: String?
        var modelSuffix: String?
        var styles: [String]?
        var operation: String
        enum CodingKeys: String, CodingKey {
            case pathSuffix = "path_suffix"
            case modelSuffix = "model_suffix"
            case styles, operation
        }
    }

    struct AuthenticationSection: Decodable {
        var sessionCookie: String?
        enum CodingKeys: String, CodingKey {
            case sessionCookie = "session_cookie"
        }
    }

    struct ServerSection: Decodable {
        var eventLoops: Int?
        var shutdownGraceSeconds: Double?
        enum CodingKeys: String, CodingKey {
            case eventLoops = "event_loops"
            case shutdownGraceSeconds = "shutdown_grace_seconds"
        }
    }

    struct LimitsSection: Decodable {
        var maxHeaderBytes: Int?
        var maxHeaderCount: Int?
        var maxBodyBytes: Int64?
        var maxChunkLineBytes: Int?
        var maxTrailerBytes: Int?
        var maxPipelinedBytes: Int?
        enum CodingKeys: String, CodingKey {
            case maxHeaderBytes = "max_header_bytes"
            case maxHeaderCount = "max_header_count"
            case maxBodyBytes = "max_body_bytes"
            case maxChunkLineBytes = "max_chunk_line_bytes"
            case maxTrailerBytes = "max_trailer_bytes"
            case maxPipelinedBytes = "max_pipelined_bytes"
        }
    }

    struct TimeoutsSection: Decodable {
        var headerReadSeconds: Double?
        var clientIdleSeconds: Double?
        var upstreamConnectSeconds: Double?
        var upstreamResponseSeconds: Double?
        var upstreamIdleSeconds: Double?
        enum CodingKeys: String, CodingKey {
            case headerReadSeconds = "header_read_seconds"
            case clientIdleSeconds = "client_idle_seconds"
            case upstreamConnectSeconds = "upstream_connect_seconds"
            case upstreamResponseSeconds = "upstream_response_seconds"
            case upstreamIdleSeconds = "upstream_idle_seconds"
        }
    }

    struct UpstreamSection: Decodable {
        var url: String?
        var urlEnv: String?
        var credential: String?
        var pool: PoolSection?
        enum CodingKeys: String, CodingKey {
            case url, credential, pool
            case urlEnv = "url_env"
        }
    }

    struct PoolSection: Decodable {
        var maxIdlePerLoop: Int?
        var maxPerLoop: Int?
        enum CodingKeys: String, CodingKey {
            case maxIdlePerLoop = "max_idle_per_loop"
            case maxPerLoop = "max_per_loop"
        }
    }

    struct PlansSection: Decodable {
        var `default`: String
        var catalog: [String: PlanSection]
    }

    struct PlanSection: Decodable {
        var monthlyTokens: Int64
        var rollover: Bool?
        var rolloverCap: Int64?
        enum CodingKeys: String, CodingKey {
            case monthlyTokens = "monthly_tokens"
            case rollover
            case rolloverCap = "rollover_cap"
        }
    }

    struct LedgerSection: Decodable {
        var mapSizeMiB: Int?
        var durable: Bool?
        enum CodingKeys: String, CodingKey {
            case mapSizeMiB = "map_size_mib"
            case durable
        }
    }

    struct RouteSection: Decodable {
        var id: String
        var methods: [String]?
        var path: String?
        var pathPrefix: String?
        var upstream: String?
        var upstreamPath: String?
        var operation: String?
        var maxBodyBytes: Int64?
        var respond: RespondSection?
        var handler: String?
        var filters: [String]?
        var rateLimitClass: String?
        enum CodingKeys: String, CodingKey {
            case id, methods, path, upstream, operation, respond, handler, filters
            case rateLimitClass = "rate_limit_class"
            case pathPrefix = "path_prefix"
            case upstreamPath = "upstream_path"
            case maxBodyBytes = "max_body_bytes"
        }
    }

    struct RespondSection: Decodable {
        var status: Int
        var code: String
        var message: String?
    }
}
