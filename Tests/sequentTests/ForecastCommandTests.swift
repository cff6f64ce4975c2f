import Foundation
import XCTest

/// `sequent forecast` as a user runs it: the built binary on small files, tiny budgets.
final class ForecastCommandTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("forecast-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `sequent arguments...`.
    func sequent(_ arguments: [String]) throws -> BuiltTool.Run {
        try BuiltTool.run(arguments, in: directory)
    }

    /// A monthly series with trend and season, `count` rows from 2000-01.
    func writeSeries(_ name: String, count: Int = 96, edit: (inout [String]) -> Void = { _ in }) throws -> String {
        var lines = ["month,sales,price"]
        for t in 0..<count {
            let value = 100 + Double(t) + 10 * sin(2 * Double.pi * Double(t) / 12)
            lines.append(String(format: "%04d-%02d,%.3f,%.2f", 2000 + t / 12, t % 12 + 1, value, 5 + 0.01 * Double(t)))
        }
        edit(&lines)
        let url = directory.appendingPathComponent(name)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func train(_ csv: String, out: String, _ extra: [String] = []) throws -> BuiltTool.Run {
        try sequent(["forecast", "train", "--csv", csv, "--column", "sales", "--horizon", "6", "--steps", "20",
                     "--hidden", "8", "--threads", "1", "--quiet", "--out", out] + (extra.isEmpty ? ["--ensemble", "1"] : extra))
    }

    func testTrainEvalPredictEndToEnd() throws {
        let csv = try writeSeries("sales.csv")
        let out = directory.appendingPathComponent("model").path
        let trained = try train(csv, out: out, ["--ensemble", "2"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for file in ["config.json", "model.safetensors", "report.md", "forecast.svg", "metrics.jsonl", "checkpoints",
                     "member-1/metrics.jsonl", "member-1/checkpoints"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(file)"), file)
        }
        let eval = try sequent(["forecast", "eval", out, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        for name in ["lstm", "naive", "seasonal_naive", "drift", "holt_winters"] {
            let metrics = try XCTUnwrap(object[name] as? [String: Any], name)
            XCTAssertEqual(Set(metrics.keys), ["mae", "rmse", "mape", "smape", "mase"])
        }
        XCTAssertNotNil(object["best"] as? String)
        XCTAssertEqual(object["test_rows"] as? Int, 6)

        let predicted = try sequent(["forecast", "predict", out, "--threads", "1"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let lines = predicted.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "month,sales,lower_90,upper_90")
        XCTAssertEqual(lines.count, 7)
        XCTAssertTrue(lines[1].hasPrefix("2008-01,"), String(lines[1]))
        let fields = lines[1].split(separator: ",").compactMap { Double($0) }
        XCTAssertEqual(fields.count, 3)
        XCTAssertLessThanOrEqual(fields[1], fields[0])
        XCTAssertGreaterThanOrEqual(fields[2], fields[0])

        // A file without the model's column is refused by name.
        let other = directory.appendingPathComponent("other.csv")
        try "month,visits\n2000-01,1\n".write(to: other, atomically: true, encoding: .utf8)
        let wrong = try sequent(["forecast", "eval", out, "--csv", other.path])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.stderr.contains("has no column 'sales', which the model reads; its columns are 'month', 'visits'"), wrong.stderr)

        // A second train into the same folder is refused; the model is untouched.
        let again = try train(csv, out: out)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("already holds a forecast model"), again.stderr)
    }

    /// The test rows change nothing the model learns: two files that differ only there give
    /// the same scaling and the same validation losses.
    func testNoTestValueLeaksIntoScalingOrTraining() throws {
        let a = try writeSeries("a.csv")
        let b = try writeSeries("b.csv") { lines in
            for i in (lines.count - 6)..<lines.count { lines[i] = lines[i].replacingOccurrences(of: ",1", with: ",9") }
        }
        XCTAssertEqual(try train(a, out: directory.appendingPathComponent("a").path).status, 0)
        XCTAssertEqual(try train(b, out: directory.appendingPathComponent("b").path).status, 0)
        func config(_ name: String) throws -> [String: Any] {
            let data = try Data(contentsOf: directory.appendingPathComponent("\(name)/config.json"))
            let envelope = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let columns = try XCTUnwrap((envelope["config"] as? [String: Any])?["columns"] as? [[String: Any]])
            return try XCTUnwrap(columns.first)
        }
        let (transformA, transformB) = (try XCTUnwrap(try config("a")["transform"] as? NSDictionary), try XCTUnwrap(try config("b")["transform"] as? NSDictionary))
        XCTAssertEqual(transformA, transformB)
        let (intervalsA, intervalsB) = (try XCTUnwrap(try config("a")["intervals"] as? NSDictionary), try XCTUnwrap(try config("b")["intervals"] as? NSDictionary))
        XCTAssertEqual(intervalsA, intervalsB)
        XCTAssertFalse(try losses("a").joined().isEmpty)
        XCTAssertEqual(try losses("a"), try losses("b"))
    }

    /// The training losses and validation MAEs a model folder's metrics.jsonl logged.
    func losses(_ folder: String) throws -> [String] {
        let log = try String(contentsOf: directory.appendingPathComponent("\(folder)/metrics.jsonl"), encoding: .utf8)
        return log.split(separator: "\n").map { line in line.split(separator: ",").filter { $0.contains("\"loss\"") || $0.contains("eval/mae") }.joined() }
    }

    /// Several columns: each its own models, one folder; eval and predict report each.
    func testSeveralColumns() throws {
        let csv = try writeSeries("two.csv")
        let out = directory.appendingPathComponent("two").path
        let trained = try sequent(["forecast", "train", "--csv", csv, "--column", "sales,price", "--horizon", "6", "--steps", "20",
                                   "--hidden", "8", "--threads", "1", "--quiet", "--ensemble", "1", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/price/metrics.jsonl"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/forecast-price.svg"))
        let eval = try sequent(["forecast", "eval", out, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let columns = try XCTUnwrap(object["columns"] as? [String: Any])
        XCTAssertEqual(Set(columns.keys), ["sales", "price"])
        XCTAssertNotNil((columns["price"] as? [String: Any])?["seasonal_naive"])
        let predicted = try sequent(["forecast", "predict", out, "--threads", "1"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertEqual(predicted.stdout.split(separator: "\n").first, "month,sales,sales_lower_90,sales_upper_90,price,price_lower_90,price_upper_90")
    }

    /// A run stopped by --time-limit and continued with --resume ends with the same models as
    /// a run never stopped (the same metrics to the last digit).
    func testTimeLimitThenResumeEqualsAnUninterruptedRun() throws {
        let csv = try writeSeries("s.csv")
        let whole = directory.appendingPathComponent("whole").path, parts = directory.appendingPathComponent("parts").path
        let options = ["--steps", "80", "--ensemble", "2"]
        XCTAssertEqual(try train(csv, out: whole, options).status, 0)
        let stopped = try train(csv, out: parts, options + ["--time-limit", "0.1s"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        let resumed = try train(csv, out: parts, options + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try sequent(["forecast", "eval", whole, "--json", "--threads", "1"]).stdout
        let b = try sequent(["forecast", "eval", parts, "--json", "--threads", "1"]).stdout
        XCTAssertEqual(a.replacingOccurrences(of: whole, with: ""), b.replacingOccurrences(of: parts, with: ""))
        XCTAssertTrue(a.contains("\"lstm\""), a)
    }

    func testBadInputEndsWithOneClearMessage() throws {
        let csv = try writeSeries("s.csv")
        let out = directory.appendingPathComponent("m").path
        func fails(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let result = try sequent(arguments)
            XCTAssertNotEqual(result.status, 0, file: file, line: line)
            XCTAssertTrue(result.stderr.contains(expected), "expected '\(expected)' in: \(result.stderr)", file: file, line: line)
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr, file: file, line: line)
        }
        let base = ["forecast", "train", "--threads", "1", "--steps", "5", "--out", out]
        try fails(base + ["--csv", csv, "--column", "sale", "--horizon", "6"], "has no column 'sale'; its columns are 'month', 'sales', 'price'")
        try fails(base + ["--csv", csv, "--column", "sales", "--horizon", "0"], "--horizon must be in 1...100000; got 0")
        try fails(base + ["--csv", directory.appendingPathComponent("none.csv").path, "--column", "sales", "--horizon", "6"], "no such file")
        let text = try writeSeries("text.csv") { $0[5] = "2000-05,lots,5" }
        try fails(base + ["--csv", text, "--column", "sales", "--horizon", "6"], "text.csv: line 6: 'lots' in column 'sales' is not a number")
        let duplicate = try writeSeries("dup.csv") { $0[3] = $0[2] }
        try fails(base + ["--csv", duplicate, "--column", "sales", "--horizon", "6"], "the same timestamp '2000-02' twice")
        let empty = try writeSeries("empty.csv") { lines in for i in 1..<lines.count { lines[i] = lines[i].components(separatedBy: ",")[0] + ",,1" } }
        try fails(base + ["--csv", empty, "--column", "sales", "--horizon", "6"], "column 'sales' has no values at all")
        let short = try writeSeries("short.csv", count: 30)
        try fails(base + ["--csv", short, "--column", "sales", "--horizon", "12", "--strategy", "direct"], "the series is too short")
        let tiny = try writeSeries("tiny.csv", count: 10)
        try fails(base + ["--csv", tiny, "--column", "sales", "--horizon", "2"], "not more than the season (12)")
        try fails(["forecast", "eval", directory.path], "config.json: missing or unreadable")
        try fails(base + ["--csv", csv, "--column", "sales", "--horizon", "500"], "500 steps is not less than the 96 rows")
        try fails(base + ["--csv", csv, "--column", "sales", "--horizon", "6", "--test-size", "1e300"], "--test-size must be a count of rows")
        try fails(base + ["--csv", csv, "--column", "sales", "--horizon", "6", "--covariates", "price"], "use --strategy direct")
    }

    func testBacktestAveragesOverOrigins() throws {
        let csv = try writeSeries("s.csv")
        let result = try sequent(["forecast", "backtest", "--csv", csv, "--column", "sales", "--horizon", "3", "--start", "2007-01",
                                  "--stride", "3", "--steps", "10", "--hidden", "8", "--ensemble", "1", "--threads", "1", "--json",
                                  "--out", directory.appendingPathComponent("bt").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(object["origins"] as? Int, 4)  // 2007-01, -04, -07, -10
        XCTAssertNotNil((object["seasonal_naive"] as? [String: Any])?["last_step_mape"])
    }

    /// Several columns in one backtest: each its own models and metrics, nested under "columns".
    func testBacktestOfSeveralColumns() throws {
        let csv = try writeSeries("s.csv")
        let out = directory.appendingPathComponent("bt2").path
        let result = try sequent(["forecast", "backtest", "--csv", csv, "--column", "sales,price", "--horizon", "3", "--start", "2007-01",
                                  "--stride", "3", "--steps", "10", "--hidden", "8", "--ensemble", "1", "--threads", "1", "--json",
                                  "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(object["origins"] as? Int, 4)
        let columns = try XCTUnwrap(object["columns"] as? [String: [String: Any]])
        XCTAssertEqual(Set(columns.keys), ["sales", "price"])
        for (_, column) in columns { XCTAssertNotNil((column["seasonal_naive"] as? [String: Any])?["last_step_mape"]) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/price/metrics.jsonl"))
        let eval = try sequent(["forecast", "eval", out, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
    }

    /// A validation part shorter than the horizon: the intervals come from the differencing's
    /// choice, validated at every step ahead, so no step's width is extrapolated.
    func testIntervalsAreCalibratedAtEveryStepOfTheHorizon() throws {
        let csv = try writeSeries("s.csv")
        let out = directory.appendingPathComponent("h12").path
        let result = try sequent(["forecast", "train", "--csv", csv, "--column", "sales", "--horizon", "12", "--val-fraction", "0.1",
                                  "--steps", "20", "--hidden", "8", "--threads", "1", "--quiet", "--ensemble", "1", "--out", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/config.json"))
        let envelope = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let column = try XCTUnwrap(((envelope["config"] as? [String: Any])?["columns"] as? [[String: Any]])?.first)
        XCTAssertEqual(column["validationSize"] as? Int, 8)  // 0.1 of the 84 training rows, fewer than H = 12
        let counts = try XCTUnwrap((column["intervals"] as? [String: Any])?["errorCounts"] as? [Int])
        XCTAssertEqual(counts.count, 12)
        XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "\(counts)")
    }

    /// Quantiles of one step's values do not add up through a recursive forecast: refused by name.
    func testQuantileIntervalsNeedTheDirectStrategy() throws {
        let csv = try writeSeries("q.csv")
        let result = try train(csv, out: directory.appendingPathComponent("q").path, ["--ensemble", "1", "--intervals", "quantile"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--intervals: quantile needs --strategy direct"), result.stderr)
    }

    /// Quantile heads on a series with known Gaussian noise, y_t = 50 + 3 sin(2 pi t / 12) + e_t,
    /// e_t ~ N(0, 2^2): the 90 % intervals (the 0.05 and 0.95 quantiles) cover 90 % of the
    /// 150 test values within 10 points (a binomial's standard deviation there is 2.4 points;
    /// the rest is the model's error after 300 steps; measured: 91.3 %), and the widths of the
    /// forecast after the file's end lie between 0.8 and 1.5 x the noise's own 2 x 1.645 x 2 =
    /// 6.58 (measured: 8.7-9.1; the model's error about the mean widens them).
    func testQuantileIntervalsCoverASeriesWithKnownNoise() throws {
        var state: UInt64 = 19
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        var lines = ["month,sales"]
        for t in 0..<600 {
            let gaussian = (-2 * Foundation.log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
            lines.append(String(format: "%04d-%02d,%.4f", 1900 + t / 12, t % 12 + 1, 50 + 3 * sin(2 * Double.pi * Double(t) / 12) + 2 * gaussian))
        }
        let csv = directory.appendingPathComponent("noise.csv")
        try lines.joined(separator: "\n").write(to: csv, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("noise").path
        let trained = try sequent(["forecast", "train", "--csv", csv.path, "--column", "sales", "--horizon", "3", "--test-size", "150",
                                   "--strategy", "direct", "--intervals", "quantile", "--difference", "none", "--window", "12",
                                   "--steps", "300", "--hidden", "16", "--ensemble", "1", "--threads", "1", "--quiet", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let eval = try sequent(["forecast", "eval", out, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let interval = try XCTUnwrap(object["interval"] as? [String: Any], eval.stdout)
        XCTAssertEqual(try XCTUnwrap(interval["nominal_coverage"] as? Double), 0.9, accuracy: 1e-9)
        let coverage = try XCTUnwrap(interval["test_coverage"] as? Double)
        XCTAssertEqual(coverage, 0.9, accuracy: 0.1, "coverage \(coverage)")
        let predicted = try sequent(["forecast", "predict", out, "--threads", "1"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        let rows = predicted.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").compactMap { Double($0) } }
        XCTAssertEqual(rows.count, 3)
        for row in rows {
            XCTAssertLessThanOrEqual(row[1], row[0])
            XCTAssertGreaterThanOrEqual(row[2], row[0])
            XCTAssertGreaterThan(row[2] - row[1], 0.8 * 6.58, "\(row)")
            XCTAssertLessThan(row[2] - row[1], 1.5 * 6.58, "\(row)")
        }
    }

    /// `--difference kpss` is AutoARIMA's rule, with its statistics in config.json and on the
    /// terminal; the default (`validate`) trains one candidate per differencing and prints
    /// their validation scores.
    func testDifferencingByTheRuleOrByValidation() throws {
        let csv = try writeSeries("d.csv")
        func column(_ name: String) throws -> [String: Any] {
            let data = try Data(contentsOf: directory.appendingPathComponent("\(name)/config.json"))
            let envelope = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return try XCTUnwrap(((envelope["config"] as? [String: Any])?["columns"] as? [[String: Any]])?.first)
        }
        func run(_ name: String, _ extra: [String]) throws -> BuiltTool.Run {
            try sequent(["forecast", "train", "--csv", csv, "--column", "sales", "--horizon", "6", "--steps", "20",
                         "--hidden", "8", "--threads", "1", "--ensemble", "1", "--out", directory.appendingPathComponent(name).path] + extra)
        }
        let kpss = try run("kpss", ["--difference", "kpss"])
        XCTAssertEqual(kpss.status, 0, kpss.stderr)
        XCTAssertTrue(kpss.stdout.contains("AutoARIMA's rule on the training part: seasonal strength F_s"), kpss.stdout)
        let rule = try column("kpss")
        XCTAssertEqual(rule["differencingRule"] as? String, "kpss")
        XCTAssertNotNil(rule["kpss"] as? Double)
        XCTAssertGreaterThan(try XCTUnwrap(rule["seasonalStrength"] as? Double), 0.64)  // 100 + t + 10 sin: a strong season
        XCTAssertNil(rule["differencingValidationMAE"])
        let validate = try run("validate", [])
        XCTAssertEqual(validate.status, 0, validate.stderr)
        XCTAssertTrue(validate.stdout.contains("the lowest validation MAE of one lstm trained with each"), validate.stdout)
        for name in ["none", "first", "seasonal", "both"] {
            XCTAssertNotNil(validate.stdout.range(of: "\(name) [0-9]", options: .regularExpression), validate.stdout)
        }
        let validated = try column("validate")
        XCTAssertEqual(validated["differencingRule"] as? String, "validate")
        XCTAssertEqual(Set(try XCTUnwrap(validated["differencingValidationMAE"] as? [String: Double]).keys), ["none", "first", "seasonal", "both"])
        // The rule's earlier name is refused, with the values that exist.
        let renamed = try run("auto", ["--difference", "auto"])
        XCTAssertNotEqual(renamed.status, 0)
        XCTAssertTrue(renamed.stderr.contains("kpss"), renamed.stderr)
    }

    /// The first column's configuration in a model folder's config.json.
    func columnConfig(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name)/config.json"))
        let envelope = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(((envelope["config"] as? [String: Any])?["columns"] as? [[String: Any]])?.first)
    }

    func testCrossValidationFoldsReadNoRowAfterTheirEnd() throws {
        // 96 rows, H = 6: a training part of 90, folds of 18 rows 18 apart ending at rows 90, 72 and 54.
        let csv = try writeSeries("sales.csv")
        // The same series with every row from 72 on changed: folds 1 and 2 must not notice.
        let changed = try writeSeries("changed.csv") { lines in
            for t in 72..<96 {
                var fields = lines[t + 1].split(separator: ",").map(String.init)
                fields[1] = String(format: "%.3f", (Double(fields[1]) ?? 0) * 1.3 + 7)
                lines[t + 1] = fields.joined(separator: ",")
            }
        }
        let first = try train(csv, out: directory.appendingPathComponent("a").path, ["--ensemble", "1", "--folds", "3"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try train(changed, out: directory.appendingPathComponent("b").path, ["--ensemble", "1", "--folds", "3"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let (a, b) = (try columnConfig("a"), try columnConfig("b"))
        let folds = try XCTUnwrap(a["differencingFolds"] as? [String: Any])
        XCTAssertEqual(folds["count"] as? Int, 3)
        XCTAssertEqual(folds["step"] as? Int, 18)
        XCTAssertEqual(folds["validationLength"] as? Int, 18)
        XCTAssertEqual(folds["trainingSize"] as? Int, 90)
        let (scoresA, scoresB) = (try XCTUnwrap(a["differencingFoldMAE"] as? [String: [Double]]), try XCTUnwrap(b["differencingFoldMAE"] as? [String: [Double]]))
        XCTAssertEqual(Set(scoresA.keys), ["none", "first", "seasonal", "both"])
        for (name, values) in scoresA {
            let other = try XCTUnwrap(scoresB[name])
            XCTAssertEqual(values.count, 3)
            XCTAssertEqual(Array(values[1...]), Array(other[1...]), "\(name): folds ending at rows 72 and 54 read a changed row")
            XCTAssertNotEqual(values[0], other[0], "\(name): fold 0 validates on rows 72-89, which changed")
        }
        // The choice is the mean over the folds.
        let means = try XCTUnwrap(a["differencingValidationMAE"] as? [String: Double])
        for (name, values) in scoresA { XCTAssertEqual(means[name]!, values.reduce(0, +) / 3, accuracy: 1e-9) }
        let chosen = try XCTUnwrap(((a["transform"] as? [String: Any])?["differencing"]) as? String)
        XCTAssertEqual(chosen, means.min { $0.value < $1.value }!.key)
        let report = try String(contentsOf: directory.appendingPathComponent("a/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("Differencing chosen by the mean validation MAE over 3 rolling-origin fold(s) of 18 rows, origins 18 rows apart"), report)
        // --folds 1 is the single split of earlier versions.
        let single = try train(csv, out: directory.appendingPathComponent("c").path, ["--ensemble", "1", "--folds", "1"])
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertEqual(try XCTUnwrap(try columnConfig("c")["differencingFolds"] as? [String: Any])["count"] as? Int, 1)
    }

    func testCombinationAveragesTheBestDifferencingsModels() throws {
        let csv = try writeSeries("sales.csv")
        let combined = try train(csv, out: directory.appendingPathComponent("combined").path, ["--ensemble", "1", "--combine", "2"])
        XCTAssertEqual(combined.status, 0, combined.stderr)
        let report = try String(contentsOf: directory.appendingPathComponent("combined/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("The forecast is the average of the"), report)
        let config = try columnConfig("combined")
        let scores = try XCTUnwrap(config["differencingValidationMAE"] as? [String: Double]).sorted { $0.value < $1.value }.map(\.key)
        let partners = try XCTUnwrap(config["partners"] as? [[String: Any]])
        XCTAssertEqual(partners.count, 1)
        func differencing(_ c: [String: Any]) -> String? { (c["transform"] as? [String: Any])?["differencing"] as? String }
        XCTAssertEqual(differencing(config), scores[0])
        XCTAssertEqual(differencing(partners[0]), scores[1])
        XCTAssertNotNil(config["combinationValidationMAE"] as? Double)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("combined/difference-\(scores[1])/metrics.jsonl").path))
        // Each part trained alone, with its differencing given: the combination's forecast and
        // bounds are their means.
        var parts: [[[Double]]] = []
        for (k, name) in scores.prefix(2).enumerated() {
            let out = directory.appendingPathComponent("part-\(k)").path
            let trained = try train(csv, out: out, ["--ensemble", "1", "--difference", name])
            XCTAssertEqual(trained.status, 0, trained.stderr)
            parts.append(try predictions(out))
        }
        let mean = try predictions(directory.appendingPathComponent("combined").path)
        XCTAssertEqual(mean.count, 6)
        for h in 0..<6 {
            for c in 0..<3 {
                XCTAssertEqual(mean[h][c], (parts[0][h][c] + parts[1][h][c]) / 2, accuracy: 1e-4 * abs(mean[h][c]), "step \(h + 1), column \(c)")
            }
        }
        let eval = try sequent(["forecast", "eval", directory.appendingPathComponent("combined").path, "--json", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        // A backtest of a combination, refitted at each origin.
        let backtest = try sequent(["forecast", "backtest", "--csv", csv, "--column", "sales", "--horizon", "6", "--start", "84", "--stride", "6",
                                    "--steps", "20", "--hidden", "8", "--threads", "1", "--quiet", "--ensemble", "1", "--combine", "2", "--refit", "--json",
                                    "--out", directory.appendingPathComponent("backtest").path])
        XCTAssertEqual(backtest.status, 0, backtest.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(backtest.stdout.utf8)) as? [String: Any], backtest.stdout)
        // Refused by name: a combination without the validated choice, and the flags' ranges.
        for (extra, expected) in [(["--combine", "2", "--difference", "kpss"], "--combine"), (["--combine", "5"], "--combine must be in 1...4"),
                                  (["--folds", "0"], "--folds must be in 1...20"), (["--val-size", "0"], "--val-size must be at least 1"),
                                  (["--val-size", "90"], "90 rows leave none to fit in the training part's 90 rows")] {
            let refused = try train(csv, out: directory.appendingPathComponent("refused").path, ["--ensemble", "1"] + extra)
            XCTAssertNotEqual(refused.status, 0, "\(extra)")
            XCTAssertTrue(refused.stderr.contains(expected), refused.stderr)
        }
    }

    /// Future calendar covariates: the year is scaled by the training part's times alone (two
    /// files that differ only in their test rows train the same), and a model reading the
    /// calendar of the steps it predicts forecasts past the end of the file, recursive or direct.
    func testFutureCalendarCovariatesReadNoTestRowAndForecastPastTheEnd() throws {
        let a = try writeSeries("a.csv")
        let b = try writeSeries("b.csv") { lines in
            for i in (lines.count - 6)..<lines.count { lines[i] = lines[i].replacingOccurrences(of: ",1", with: ",9") }
        }
        let calendar = ["--ensemble", "1", "--calendar", "month,year"]
        XCTAssertEqual(try train(a, out: directory.appendingPathComponent("a").path, calendar).status, 0)
        XCTAssertEqual(try train(b, out: directory.appendingPathComponent("b").path, calendar).status, 0)
        let (configA, configB) = (try columnConfig("a"), try columnConfig("b"))
        XCTAssertEqual(configA["calendar"] as? [String], ["month", "year"])
        XCTAssertEqual(configA["calendarAhead"] as? Bool, true)
        let scale = try XCTUnwrap(configA["yearScale"] as? [String: Double])
        XCTAssertEqual(scale as NSDictionary, try XCTUnwrap(configB["yearScale"] as? NSDictionary))
        // 2000-01 ... 2007-06, the 90 training rows (the file ends 2007-12).
        XCTAssertEqual(try XCTUnwrap(scale["last"]) - (try XCTUnwrap(scale["first"])), 7 + 5.0 / 12, accuracy: 0.01)
        for key in ["transform", "intervals"] {
            XCTAssertEqual(try XCTUnwrap(configA[key] as? NSDictionary), try XCTUnwrap(configB[key] as? NSDictionary), key)
        }
        XCTAssertFalse(try losses("a").joined().isEmpty)
        XCTAssertEqual(try losses("a"), try losses("b"))

        // Past the end of the file: 2008-01 ... 2008-06, recursive and direct.
        for (name, extra) in [("a", [String]()), ("direct", ["--strategy", "direct"])] {
            let out = directory.appendingPathComponent(name).path
            if !extra.isEmpty { XCTAssertEqual(try train(a, out: out, calendar + extra).status, 0) }
            let forecast = try predictions(out)
            XCTAssertEqual(forecast.count, 6, name)
            XCTAssertTrue(forecast.allSatisfy { $0.count == 3 && $0.allSatisfy(\.isFinite) }, "\(name): \(forecast)")
        }
        XCTAssertEqual(try columnConfig("direct")["calendarAhead"] as? Bool, true)

        // Offered to the folds: every differencing with and without the calendar.
        let offered = try train(a, out: directory.appendingPathComponent("offered").path, ["--ensemble", "1", "--offer-calendar", "month,year"])
        XCTAssertEqual(offered.status, 0, offered.stderr)
        let config = try columnConfig("offered")
        let scores = try XCTUnwrap(config["differencingValidationMAE"] as? [String: Double])
        XCTAssertEqual(Set(scores.keys), ["none", "first", "seasonal", "both", "none+calendar", "first+calendar", "seasonal+calendar", "both+calendar"])
        let best = scores.min { $0.value < $1.value }!.key
        XCTAssertEqual((config["calendar"] as? [String]) ?? [], best.hasSuffix("+calendar") ? ["month", "year"] : [], best)
        let refused = try train(a, out: directory.appendingPathComponent("refused").path, ["--ensemble", "1", "--calendar", "season"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--calendar: 'season' is not one of month, weekday, hour, year"), refused.stderr)
    }

    /// `--loss-every-step` trains a recursive recurrent model on every row's next value, and is
    /// refused by name where it cannot.
    func testLossAtEveryStep() throws {
        let csv = try writeSeries("s.csv")
        let out = directory.appendingPathComponent("every").path
        let trained = try train(csv, out: out, ["--ensemble", "1", "--loss-every-step", "--calendar", "month,year"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertEqual(try columnConfig("every")["lossEveryStep"] as? Bool, true)
        XCTAssertEqual(try predictions(out).count, 6)
        for extra in [["--strategy", "direct"], ["--model", "transformer"], ["--highway"]] {
            let refused = try train(csv, out: directory.appendingPathComponent("refused").path, ["--ensemble", "1", "--loss-every-step"] + extra)
            XCTAssertNotEqual(refused.status, 0, "\(extra)")
            XCTAssertTrue(refused.stderr.contains("--loss-every-step"), refused.stderr)
        }
    }

    /// A combination (`--combine 2`) stopped by --time-limit and continued with --resume ends
    /// with the same forecast as one never stopped.
    func testResumedCombinationEqualsAnUninterruptedOne() throws {
        let csv = try writeSeries("s.csv")
        let whole = directory.appendingPathComponent("whole").path, parts = directory.appendingPathComponent("parts").path
        let options = ["--steps", "60", "--ensemble", "2", "--combine", "2"]
        XCTAssertEqual(try train(csv, out: whole, options).status, 0)
        let stopped = try train(csv, out: parts, options + ["--time-limit", "0.2s"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        let resumed = try train(csv, out: parts, options + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try predictions(whole), try predictions(parts))
        let a = try sequent(["forecast", "eval", whole, "--json", "--threads", "1"]).stdout
        let b = try sequent(["forecast", "eval", parts, "--json", "--threads", "1"]).stdout
        XCTAssertEqual(a.replacingOccurrences(of: whole, with: ""), b.replacingOccurrences(of: parts, with: ""))
    }

    /// `predict`'s rows: forecast, lower, upper.
    func predictions(_ folder: String) throws -> [[Double]] {
        let run = try sequent(["forecast", "predict", folder, "--threads", "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return run.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").dropFirst().compactMap { Double($0) } }
    }
}
