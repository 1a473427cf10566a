import Foundation

/// A priced operation: what the edge holds before forwarding and charges on success.
public struct Quote: Sendable, Equatable {
    /// The operation as named in the policy (e.g. `vector_generation`).
    public var operation: String
    /// Tokens per unit (per image for generations).
    public var unitPrice: Int64
    /// Units (the generation's `n`; 1 otherwise).
    public var quantity: Int64
    public var total: Int64 { unitPrice * quantity }
}

/// Why a request could not be priced; becomes a 400 for the client.
public struct PricingError: Error, Sendable, Equatable {
    /// `invalid_request` (bad JSON or types) or `invalid_operation`.
    public var code: String
    public var message: String
}

/// One row of the generation classification table: the first row whose conditions all hold wins.
public struct GenerationRule: Sendable, Equatable {
    /// The request path ends with this (e.g. `/generations/vector`).
    public var pathSuffix: String?
    /// The body's `model` ends with this (e.g. `_vector`).
    public var modelSuffix: String?
    /// The body's `style` is one of these.
    public var styles: [String]?
    /// The operation priced when the row matches.
    public var operation: String
}

/// Prices requests from the policy: fixed prices per operation, and generations classified from
/// their small JSON body by a first-match rule table, times `n`.
public struct PriceTable: Sendable {
    public var prices: [String: Int64]
    public var generationRules: [GenerationRule]
    /// Largest accepted `n`; beyond it → 400.
    public var maxImages: Int64
    /// Largest generation body held for pricing; beyond it → 413.
    public var pricedBodyBytes: Int

    public static let generationOperation = "generation"

    public init(prices: [String: Int64], generationRules: [GenerationRule], maxImages: Int64, pricedBodyBytes: Int) {
        self.prices = prices
        self.generationRules = generationRules
        self.maxImages = maxImages
        self.pricedBodyBytes = pricedBodyBytes
    }

    /// Whether a route's operation is priced from its body.
    public func needsBody(operation: String) -> Bool { operation == Self.generationOperation }

    /// The quote for a fixed-price operation.
    public func quote(operation: String) -> Result<Quote, PricingError> {
        guard let price = prices[operation] else {
            return .failure(PricingError(code: "invalid_operation", message: "Unknown operation '\(operation)'"))
        }
        return .success(Quote(operation: operation, unitPrice: price, quantity: 1))
    }

    /// The fields of a generation body that decide its price; everything else is Recraft's business.
    struct GenerationFields: Decodable {
        var model: String?
        var style: String?
        var n: Int64?
    }

    /// Prices a generation from its JSON body: classify by the rule table, then multiply by `n`.
    public func quoteGeneration(path: String, body: [UInt8]) -> Result<Quote, PricingError> {
        let fields: GenerationFields
        do {
            fields = try JSONDecoder().decode(GenerationFields.self, from: Data(body))
        } catch DecodingError.typeMismatch(_, let context) {
            let key = context.codingPath.first?.stringValue ?? "body"
            return .failure(PricingError(code: "invalid_request", message: key == "body" ? "The request body must be a JSON object" : "'\(key)' has the wrong type"))
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            return .failure(PricingError(code: "invalid_request", message: "'\(context.codingPath[0].stringValue)' has an invalid value"))
        } catch {
            return .failure(PricingError(code: "invalid_request", message: "The request body is not valid JSON"))
        }
        let count = fields.n ?? 1
        guard count >= 1, count <= maxImages else {
            return .failure(PricingError(code: "invalid_request", message: "'n' must be between 1 and \(maxImages)"))
        }
        for rule in generationRules {
            if let suffix = rule.pathSuffix, !path.hasSuffix(suffix) { continue }
            if let suffix = rule.modelSuffix, !(fields.model?.hasSuffix(suffix) ?? false) { continue }
            if let styles = rule.styles, !(fields.style.map(styles.contains) ?? false) { continue }
            guard let price = prices[rule.operation] else { break }
            return .success(Quote(operation: rule.operation, unitPrice: price, quantity: count))
        }
        return .failure(PricingError(code: "invalid_operation", message: "No pricing rule matches this generation"))
    }
}
