import Foundation
import XCTest

/// The README's library example is `Examples/Consumer`, which `scripts/check-package-by-version.sh`
/// builds and runs against a tagged clone: this test keeps the two texts the same, so that
/// the code a newcomer reads first is code that compiles.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeShowsTheConsumerExampleAsItIs() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: root.appendingPathComponent("Examples/Consumer/Sources/Consumer/main.swift"), encoding: .utf8)
        // The example from its first import on (its opening comment is about the file).
        let code = try XCTUnwrap(example.range(of: "import ").map { String(example[$0.lowerBound...]) })
        let block = try XCTUnwrap(readme.range(of: "## The library in one screen"), "README has no library example section")
        let fenced = try XCTUnwrap(readme.range(of: "```swift\n", range: block.upperBound..<readme.endIndex))
        let end = try XCTUnwrap(readme.range(of: "```\n", range: fenced.upperBound..<readme.endIndex))
        XCTAssertEqual(String(readme[fenced.upperBound..<end.lowerBound]), code,
                       "README's example differs from Examples/Consumer/Sources/Consumer/main.swift")
    }
}
