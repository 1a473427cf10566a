import Foundation
import Policy
@testable import Portal
import Testing

/// The embedded assets and templates: served from the binary, typed, with stable strong ETags.
@Suite("Portal assets and embedded templates")
struct PortalAssetTests {
    let site: PortalSite

    init() throws {
        site = try PortalSite(policy: try loadPolicy())
    }

    @Test("portal.css, portal.js and logo.svg exist with their content types and match the files in Sources")
    func assets() throws {
        let expected = ["portal.css": "text/css; charset=utf-8", "portal.js": "text/javascript; charset=utf-8", "logo.svg": "image/svg+xml"]
        #expect(Set(PortalSite.assetNames) == Set(expected.keys))
        for (name, contentType) in expected {
            let asset = try #require(site.asset(named: name))
            #expect(asset.name == name)
            #expect(asset.contentType == contentType)
            let onDisk = try Data(contentsOf: repositoryRoot.appendingPathComponent("Sources/Portal/Assets/\(name)"))
            #expect(asset.bytes == [UInt8](onDisk), "\(name) is embedded as it is in the repository")
        }
        #expect(site.asset(named: "missing.css") == nil)
        #expect(site.asset(named: "../Package.swift") == nil)
        #expect(site.asset(named: "portal.css?v=123") == site.asset(named: "portal.css"))
        #expect(PortalSite.assetPathPrefix == "/portal/assets/")
    }

    @Test("ETags are the quoted SHA-256 of the content: strong, stable across sites, distinct per file")
    func etags() throws {
        let again = try PortalSite(policy: try loadPolicy(try defaultPolicyYAML().replacingOccurrences(of: "raster_generation: 4", with: "raster_generation: 5")))
        var seen: Set<String> = []
        for name in PortalSite.assetNames {
            let asset = try #require(site.asset(named: name))
            #expect(try asset.etag.matches(of: "^\"[0-9a-f]{64}\"$").count == 1, "\(asset.etag)")
            #expect(!asset.etag.hasPrefix("W/"))
            #expect(asset.etag == "\"" + SecretHash.sha256(asset.bytes).hex + "\"")
            #expect(again.asset(named: name)?.etag == asset.etag)
            seen.insert(asset.etag)
        }
        #expect(seen.count == PortalSite.assetNames.count)
    }

    @Test("Pages link each asset with a version taken from its hash, and every linked asset resolves")
    func versionedLinks() throws {
        let html = site.render(.signIn(SignInPage())).html
        let links = try html.matches(of: "(?:href|src)=\"/portal/assets/([a-z.]+)\\?v=([0-9a-f]+)\"")
        #expect(Set(links.map { $0[1] }) == Set(PortalSite.assetNames))
        for link in links {
            let asset = try #require(site.asset(named: link[1]))
            #expect(asset.etag.dropFirst().hasPrefix(link[2]))
        }
    }

    @Test("Every file in Sources/Portal/Templates and Sources/Portal/Assets is embedded (none forgotten)")
    func everythingEmbedded() throws {
        let files = FileManager.default
        func visibleFiles(_ directory: String) throws -> Set<String> {
            Set(try files.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent(directory).path).filter { !$0.hasPrefix(".") })
        }
        let templates = try visibleFiles("Sources/Portal/Templates")
        #expect(templates == Set(PortalTemplates.embedded.map { $0.name + ".mustache" }))
        for (name, text) in PortalTemplates.embedded {
            let onDisk = try Data(contentsOf: repositoryRoot.appendingPathComponent("Sources/Portal/Templates/\(name).mustache"))
            #expect(text == [UInt8](onDisk), "\(name)")
        }
        #expect(try visibleFiles("Sources/Portal/Assets") == Set(PortalSite.assetNames))
    }

    @Test("The stylesheet defines every colour class the chart uses, and no asset reaches off-site")
    func stylesheet() throws {
        let css = String(decoding: try #require(site.asset(named: "portal.css")).bytes, as: UTF8.self)
        for index in 0..<UsageChart.paletteSize {
            #expect(css.contains(".series-\(index) { fill:"), "series-\(index)")
        }
        #expect(css.contains(":focus-visible"))
        #expect(css.contains(".visually-hidden"))
        for name in PortalSite.assetNames {
            let text = String(decoding: try #require(site.asset(named: name)).bytes, as: UTF8.self)
            #expect(!text.contains("@import"), "\(name)")
            #expect(try text.matches(of: "url\\(\\s*['\"]?(?:https?:)?//").isEmpty, "\(name)")
            #expect(!text.contains("https://fonts."), "\(name)")
        }
    }
}

/// The pure helpers behind the chart and the dates.
@Suite("Portal formatting and chart scale")
struct PortalFormatTests {
    @Test("UTC days agree with Foundation's Gregorian calendar across centuries and leap years")
    func civilDates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // From 1600: Foundation's calendar switches to the Julian calendar before 1582, the portal never does.
        for days in stride(from: Int64(-135_000), through: 800_000, by: 997) + [0, -1, 11_016, 20_412, 19_782] {
            let date = Date(timeIntervalSince1970: Double(days) * 86_400 + 3_600)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let day = UTCDay(containing: date)
            #expect(day.daysSinceEpoch == days)
            let civil = day.civil
            #expect(civil.year == Int64(parts.year!) && civil.month == Int64(parts.month!) && civil.day == Int64(parts.day!), "\(days)")
        }
        #expect(UTCDay(containing: utc(2024, 2, 29)).isoString == "2024-02-29")
        #expect(UTCDay(containing: Date(timeIntervalSince1970: -1)).isoString == "1969-12-31")
        #expect(PortalFormat.dateTime(utc(2026, 3, 4, 5, 6)) == "2026-03-04 05:06 UTC")
    }

    @Test("Token numbers: grouped in thousands, deltas signed")
    func numbers() {
        #expect(PortalFormat.tokens(0) == "0")
        #expect(PortalFormat.tokens(999) == "999")
        #expect(PortalFormat.tokens(1_000) == "1,000")
        #expect(PortalFormat.tokens(-1_234_567) == "-1,234,567")
        #expect(PortalFormat.tokens(Int64.min) == "-9,223,372,036,854,775,808")
        #expect(PortalFormat.signedTokens(200) == "+200")
        #expect(PortalFormat.signedTokens(-4) == "-4")
        #expect(PortalFormat.signedTokens(0) == "0")
    }

    @Test("Chart scale: four round steps that just reach the busiest day")
    func tickSteps() {
        let cases: [(Int64, Int64)] = [(0, 1), (1, 1), (4, 1), (5, 2), (8, 2), (9, 3), (12, 3), (13, 4), (20, 5), (21, 6),
                                       (25, 8), (32, 8), (33, 10), (40, 10), (41, 20), (99, 25), (100, 25), (101, 30),
                                       (1_000, 250), (1_001, 300), (Int64.max, 0)]
        for (maximum, step) in cases {
            let computed = UsageChart.tickStep(forMaximum: maximum)
            #expect(computed * 4 >= min(maximum, Int64.max / 8), "\(maximum)")
            if maximum < 1_000_000 { #expect(computed == step, "\(maximum)") }
        }
        #expect(UsageChart.svgNumber(84.8) == "84.8")
        #expect(UsageChart.svgNumber(228) == "228")
        #expect(UsageChart.svgNumber(0.05) == "0.05")
        #expect(UsageChart.svgNumber(12.346) == "12.35")
    }
}
