#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
internal import NIOCore
internal import NIOHTTP1

/// Decides the stand-in's answer to a fully received request — what Recraft (or the Recraftor app)
/// would say. Pure: no I/O, no timing; `StandInHandler` writes the result.
enum StandInResponder {
    /// The public host the stand-in's image URLs point at (never resolvable).
    static let imageHost = "https://img.recraft.invalid"

    /// Recraft accepts 1…6 images per generation request.
    static let imageCountRange = 1...6

    static func respond(to request: StandInIncomingRequest, sha256: String) -> StandInResponse {
        let version = request.head.version
        if let problem = request.controls.problem {
            return .error(.badRequest, version: version, code: "invalid_standin_control", message: problem)
        }
        if let code = request.controls.status, !(200...299).contains(code) {
            var forced = forcedStatus(code, version: version, path: request.head.uri)
            for (name, value) in request.controls.responseHeaders { forced.head.headers.add(name: name, value: value) }
            return forced
        }
        var response = routeResponse(request, sha256: sha256)
        for (name, value) in request.controls.responseHeaders { response.head.headers.add(name: name, value: value) }
        if let code = request.controls.status {
            response.head.status = HTTPResponseStatus(statusCode: code)
            if code == 204 || code == 304 {
                response.head.headers.remove(name: "content-length")
                response.head.headers.remove(name: "transfer-encoding")
                response.body = .none
            }
        }
        return response
    }

    private static func routeResponse(_ request: StandInIncomingRequest, sha256: String) -> StandInResponse {
        let version = request.head.version
        switch request.route {
        case .generations:
            return generations(request)
        case .imageOperation(let vector):
            var json = StandInJSON()
            json.beginObject()
            json.key("image")
            json.beginObject()
            json.field("url", imageURL(vector: vector))
            json.endObject()
            json.field("bytes", request.bodyByteCount)
            json.field("sha256", sha256)
            json.endObject()
            return .json(.ok, version: version, json.buffer)
        case .styles:
            var json = StandInJSON(capacity: 64)
            json.beginObject()
            json.field("id", UUID().uuidString.lowercased())
            json.endObject()
            return .json(.ok, version: version, json.buffer)
        case .usersMe:
            var json = StandInJSON(capacity: 96)
            json.beginObject()
            json.field("id", "standin")
            json.field("email", "standin@recraft.invalid")
            json.field("credits", 1_000_000)
            json.endObject()
            return .json(.ok, version: version, json.buffer)
        case .echo:
            return echo(request, sha256: sha256)
        case .download:
            return download(request)
        case .app:
            return appPage(request)
        case .notFound:
            return .error(.notFound, version: version, code: "not_found", message: "No such endpoint: \(request.head.uri)")
        case .methodNotAllowed(let allow):
            var response = StandInResponse.error(
                .methodNotAllowed, version: version, code: "method_not_allowed",
                message: "\(request.head.method.rawValue) is not allowed here")
            response.head.headers.add(name: "allow", value: allow)
            return response
        }
    }

    // MARK: - Routes

    /// The fields of a generation request the stand-in looks at; others are ignored, as Recraft does.
    private struct GenerationRequest: Decodable {
        var prompt: String?
        var n: Int?
        var style: String?
        var model: String?
        var responseFormat: String?

        enum CodingKeys: String, CodingKey {
            case prompt, n, style, model
            case responseFormat = "response_format"
        }
    }

    /// A 1×1 transparent PNG, the `b64_json` image.
    private static let tinyPNGBase64 =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

    private static func generations(_ request: StandInIncomingRequest) -> StandInResponse {
        let version = request.head.version
        guard let body = request.jsonBody else {
            return .error(
                .payloadTooLarge, version: version, code: "payload_too_large",
                message: "Generation request bodies are limited to \(StandInIncomingRequest.jsonBodyLimit) bytes")
        }
        let parsed: GenerationRequest
        do {
            parsed = try JSONDecoder().decode(GenerationRequest.self, from: Data(body.readableBytesView))
        } catch {
            return .error(.badRequest, version: version, code: "invalid_json", message: "Request body is not valid JSON for a generation: \(error)")
        }
        let count = parsed.n ?? 1
        guard imageCountRange.contains(count) else {
            return .error(.badRequest, version: version, code: "invalid_n", message: "n must be between 1 and 6, got \(count)")
        }
        let base64: Bool
        switch parsed.responseFormat {
        case nil, "url": base64 = false
        case "b64_json": base64 = true
        case .some(let other):
            return .error(.badRequest, version: version, code: "invalid_response_format", message: "Unknown response_format '\(other)'")
        }
        let vector = parsed.model?.hasSuffix("_vector") == true
            || parsed.style == "vector_illustration" || parsed.style == "icon"
        var json = StandInJSON(capacity: 64 + count * 96)
        json.beginObject()
        json.field("created", Int(Date().timeIntervalSince1970))
        json.key("data")
        json.beginArray()
        for _ in 0..<count {
            let id = UUID().uuidString.lowercased()
            json.beginObject()
            json.field("image_id", id)
            if base64 {
                json.field("b64_json", tinyPNGBase64)
            } else {
                json.field("url", "\(imageHost)/\(id).\(vector ? "svg" : "png")")
            }
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return .json(.ok, version: version, json.buffer)
    }

    private static func echo(_ request: StandInIncomingRequest, sha256: String) -> StandInResponse {
        var json = StandInJSON(capacity: 256 + request.head.headers.count * 48)
        json.beginObject()
        json.field("method", request.head.method.rawValue)
        json.field("path", request.head.uri)
        json.key("headers")
        json.beginArray()
        for header in request.head.headers {
            json.beginArray()
            json.string(header.name)
            json.string(header.value)
            json.endArray()
        }
        json.endArray()
        json.field("bytes", request.bodyByteCount)
        json.field("sha256", sha256)
        json.endObject()
        return .json(.ok, version: request.head.version, json.buffer)
    }

    private static func download(_ request: StandInIncomingRequest) -> StandInResponse {
        let version = request.head.version
        var bytes = 0
        var seed: UInt64 = 0
        var framing = "length"
        let query = request.head.uri.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count == 2 ? parts[1] : ""
            switch parts[0] {
            case "bytes":
                guard let parsed = Int(value), parsed >= 0 else {
                    return .error(.badRequest, version: version, code: "invalid_bytes", message: "bytes must be a non-negative integer")
                }
                bytes = parsed
            case "seed":
                guard let parsed = UInt64(value) else {
                    return .error(.badRequest, version: version, code: "invalid_seed", message: "seed must be an unsigned 64-bit integer")
                }
                seed = parsed
            case "framing":
                framing = String(value)
            default:
                continue
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/octet-stream")
        var closeAfter = false
        switch framing {
        case "length":
            headers.add(name: "content-length", value: String(bytes))
        case "chunked" where version.major == 1 && version.minor >= 1:
            headers.add(name: "transfer-encoding", value: "chunked")
        case "chunked", "close":
            closeAfter = true
        default:
            return .error(.badRequest, version: version, code: "invalid_framing", message: "framing must be length, chunked or close")
        }
        var response = StandInResponse(
            head: HTTPResponseHead(version: version, status: .ok, headers: headers),
            body: .download(StandInDownloadBody(bytes: bytes, seed: seed)))
        response.closeAfter = closeAfter
        return response
    }

    private static func appPage(_ request: StandInIncomingRequest) -> StandInResponse {
        var page = ByteBuffer()
        page.writeStaticString("<!doctype html>\n<html><head><title>Recraftor app (stand-in)</title></head>\n<body><h1>Recraftor app (stand-in)</h1>\n<p>")
        page.writeString(request.head.method.rawValue)
        page.writeStaticString(" <code>")
        page.writeString(htmlEscaped(request.head.uri))
        page.writeStaticString("</code></p></body></html>\n")
        return StandInResponse(status: .ok, version: request.head.version, contentType: "text/html; charset=utf-8", body: page)
    }

    /// `X-StandIn-Status` outside 2xx: the status with a Recraft-style error body.
    private static func forcedStatus(_ code: Int, version: HTTPVersion, path: String) -> StandInResponse {
        let status = HTTPResponseStatus(statusCode: code)
        guard code != 304 else {
            return StandInResponse(head: HTTPResponseHead(version: version, status: status), body: .none)
        }
        let errorCode: String
        switch code {
        case 400: errorCode = "bad_request"
        case 401: errorCode = "not_authenticated"
        case 402: errorCode = "not_enough_credits"
        case 403: errorCode = "forbidden"
        case 404: errorCode = "not_found"
        case 413: errorCode = "payload_too_large"
        case 429: errorCode = "rate_limit_exceeded"
        case 500: errorCode = "internal_error"
        case 502: errorCode = "bad_gateway"
        case 503: errorCode = "service_unavailable"
        case 504: errorCode = "gateway_timeout"
        default: errorCode = "error_\(code)"
        }
        var response = StandInResponse.error(
            status, version: version, code: errorCode,
            message: "The stand-in answered \(code) for \(path) as X-StandIn-Status asked")
        if code == 429 || code == 503 {
            response.head.headers.add(name: "retry-after", value: "1")
        }
        return response
    }

    // MARK: - Helpers

    private static func imageURL(vector: Bool) -> String {
        "\(imageHost)/\(UUID().uuidString.lowercased()).\(vector ? "svg" : "png")"
    }

    private static func htmlEscaped(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
