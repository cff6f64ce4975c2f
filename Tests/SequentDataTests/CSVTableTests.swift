import SequentData
import SequentTensor
import XCTest

final class CSVTableTests: XCTestCase {
    func testQuotedFieldsHoldCommasLineBreaksAndDoubledQuotes() throws {
        let text = "time,\"a, b\",note\r\n2020-01,1.5,\"say \"\"hi\"\"\"\r\n2020-02, 2 ,\"two\nlines\"\n\n2020-03,3,x"
        let table = try CSVTable.parse(text, path: "t.csv")
        XCTAssertEqual(table.header, ["time", "a, b", "note"])
        XCTAssertEqual(table.rows.map(\.fields), [["2020-01", "1.5", "say \"hi\""], ["2020-02", "2", "two\nlines"], ["2020-03", "3", "x"]])
        XCTAssertEqual(table.rows.map(\.line), [2, 3, 6])
    }

    func testByteOrderMarkIsSkipped() throws {
        XCTAssertEqual(try CSVTable.parse("\u{FEFF}month,y\n1949-01,1\n", path: "t.csv").header, ["month", "y"])
    }

    func testWrongFieldCountNamesTheLine() {
        XCTAssertThrowsError(try CSVTable.parse("a,b\n1,2\n3\n", path: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("t.csv: line 3: 1 fields, but the header has 2"), "\(error)")
        }
    }

    func testUnterminatedQuoteAndDuplicateColumnsAreRefused() {
        XCTAssertThrowsError(try CSVTable.parse("a,b\n1,\"2\n", path: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("line 2: a quoted field is never closed"), "\(error)")
        }
        XCTAssertThrowsError(try CSVTable.parse("a,a\n1,2\n", path: "t.csv")) { error in
            XCTAssertTrue("\(error)".contains("'a' appears twice"), "\(error)")
        }
        XCTAssertThrowsError(try CSVTable.parse("", path: "t.csv"))
    }

    func testUnknownColumnListsTheColumns() throws {
        let table = try CSVTable.parse("month,passengers\n1949-01,112\n", path: "air.csv")
        XCTAssertThrowsError(try table.columnIndex("pasengers", flag: "--column")) { error in
            XCTAssertEqual("\(error)", "--column: air.csv has no column 'pasengers'; its columns are 'month', 'passengers'")
        }
    }
}

final class CSVTableDelimiterTests: XCTestCase {
    func testTabSeparatedKeepsCommasAndInnerSpaces() throws {
        let table = try CSVTable.parse("label\tsentence\n0\tno wit , only gags \n1\t\"two\nlines\"\n", path: "t.tsv", delimiter: "\t")
        XCTAssertEqual(table.header, ["label", "sentence"])
        XCTAssertEqual(table.rows.map(\.fields), [["0", "no wit , only gags"], ["1", "two\nlines"]])
    }
}
