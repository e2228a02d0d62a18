// results.md and report.html from a results tree: the numbers in the tables, escaping, the shape of
// the SVG, robustness to missing optional parts; the PNG/base64 pieces the report embeds.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cctype>
#include <cmath>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "report/aggregate.hpp"
#include "report/format.hpp"
#include "report/png_image.hpp"
#include "report/report_html.hpp"
#include "report/results_markdown.hpp"

namespace ser::report {
namespace {

using nlohmann::json;

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

// A run with a random confusion matrix (k classes) and the metrics computed from it; class `absent`
// has no test utterances (-1: none absent).
json make_run(int seed, int fold, int k, double skill, std::mt19937& rng, int absent, bool curve) {
  std::uniform_int_distribution<int> count(2, 9), other(0, k - 2);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::vector<int>> c(static_cast<std::size_t>(k), std::vector<int>(static_cast<std::size_t>(k), 0));
  for (int t = 0; t < k; ++t) {
    if (t == absent) continue;
    for (int i = count(rng); i > 0; --i) {
      int p = t;
      if (u(rng) > skill) p = other(rng), p += p >= t;
      ++c[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)];
    }
  }
  json recall = json::array();
  double sum_r = 0, correct = 0, total = 0;
  int present = 0;
  for (int t = 0; t < k; ++t) {
    double row = 0;
    for (int p = 0; p < k; ++p) row += c[static_cast<std::size_t>(t)][static_cast<std::size_t>(p)];
    total += row;
    correct += c[static_cast<std::size_t>(t)][static_cast<std::size_t>(t)];
    if (row == 0) { recall.push_back(nullptr); continue; }
    recall.push_back(c[static_cast<std::size_t>(t)][static_cast<std::size_t>(t)] / row);
    sum_r += recall.back().get<double>();
    ++present;
  }
  json r{{"seed", seed}, {"fold", fold}, {"test_speakers", {std::to_string(fold)}}, {"accuracy", correct / total},
         {"ua", sum_r / present}, {"macro_precision", 0.9 * sum_r / present}, {"macro_recall", sum_r / present},
         {"macro_f1", 0.95 * sum_r / present}, {"per_class_recall", recall}, {"confusion", c},
         {"train_seconds", 10 + fold}, {"inference_utterances_per_second", 500 + 10 * fold}, {"test_utterances", total},
         {"validation_ua", 0.5 + 0.125 * (fold % 2)}};
  if (curve) {
    json lc = json::array();
    for (int e = 1; e <= 8 + fold % 3; ++e)
      lc.push_back({{"epoch", e}, {"train_loss", 2.0 / e}, {"val_loss", 2.2 / e + 0.1}, {"train_accuracy", 1 - 1.0 / (e + 1)},
                    {"val_ua", skill * (1 - 1.0 / (e + 1))}});
    r["learning_curve"] = lc;
    r["best_epoch"] = 5;
  }
  return r;
}

json make_results(const std::vector<std::string>& classes, int folds, int seeds, bool with_extras) {
  std::mt19937 rng(17);
  const int k = static_cast<int>(classes.size());
  json r{{"experiment", "toy_loso"}, {"title", "Toy <corpus> & friends"}, {"corpus", "toy"}, {"command", "ser experiment toy.toml"},
         {"commit", "abc1234"}, {"machine", "test machine"}, {"device", "cpu"}, {"started", "2026-01-01T00:00:00Z"}, {"seconds", 75.0},
         {"protocol", {{"kind", "loso"}, {"folds", folds}, {"validation", "1 speaker"}, {"normalisation", "training statistics"}}},
         {"class_names", classes}};
  r["protocol"]["seeds"] = json::array();
  for (int s = 1; s <= seeds; ++s) r["protocol"]["seeds"].push_back(s);
  const std::vector<std::tuple<std::string, std::string, double, bool>> models{
      {"cnn_attn", "hybrid", 0.8, true}, {"cnn", "cnn", 0.7, true}, {"svm", "classic", 0.6, false}};
  for (const auto& [name, approach, skill, engine] : models) {
    json m{{"approach", approach}, {"description", name + " model"}, {"folds", json::array()}};
    if (engine) m["parameters"] = 123456;
    for (int s = 1; s <= seeds; ++s)
      for (int f = 0; f < folds; ++f) m["folds"].push_back(make_run(s, f, k, skill, rng, f == 1 ? 1 : -1, engine && with_extras));
    r["models"][name] = m;
  }
  r["model_order"] = {"cnn_attn", "cnn", "svm"};
  if (with_extras) {
    r["baseline"] = "cnn";
    json ex{{"model", "cnn_attn"}, {"path", "wav/a.wav"}, {"speaker", "0"}, {"label", 0}, {"predicted", 1}, {"hop_seconds", 0.01}};
    json logmel = json::array(), att = json::array();
    for (int t = 0; t < 50; ++t) {
      json row = json::array();
      for (int m = 0; m < 16; ++m) row.push_back(std::sin(0.1 * t) - 0.05 * m);
      logmel.push_back(row);
      att.push_back(1.0 / 50);
    }
    ex["logmel"] = logmel;
    ex["attention"] = att;
    r["attention_examples"] = {ex};
    r["cross_corpus"] = {{{"train", "toy"}, {"test", "other"}, {"classes", {classes[0], classes[1]}}, {"model", "cnn_attn"},
                          {"accuracy", 0.5}, {"ua", 0.45}, {"macro_f1", 0.4}, {"confusion", {{3, 1}, {2, 2}}}}};
  }
  return r;
}

json prepared(json r) {
  for (auto& [name, m] : r["models"].items()) aggregate_model(m, name);
  if (r.contains("baseline")) add_significance(r, r["baseline"].get<std::string>());
  return r;
}

// Cells of the Markdown table row that starts with "| name |".
std::vector<std::string> markdown_row(const std::string& md, const std::string& name) {
  std::istringstream in(md);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| " + name + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::string cell;
    for (std::size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '|') {
        cells.push_back(cell.substr(cell.find_first_not_of(' '), cell.find_last_not_of(' ') - cell.find_first_not_of(' ') + 1));
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    return cells;
  }
  return {};
}

std::string pm_text(const std::vector<double>& v) {
  double mean = 0, ss = 0;
  for (double x : v) mean += x / static_cast<double>(v.size());
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f \u00b1 %.1f", 100 * mean, 100 * sd);
  return buf;
}

const std::vector<std::string> kClasses{"anger", "boredom", "fear", "neutral"};

TEST(ExperimentMarkdown, ComparisonRowsCarryTheNumbers) {
  const json raw = make_results(kClasses, 4, 2, true);
  const std::string md = results_markdown(prepared(raw));
  for (const std::string name : {"cnn_attn", "svm"}) {
    const std::vector<std::string> cells = markdown_row(md, name);
    ASSERT_EQ(cells.size(), 12u) << name << "\n" << md;
    std::vector<double> acc, ua;
    for (const json& f : raw["models"][name]["folds"]) {
      acc.push_back(f["accuracy"].get<double>());
      ua.push_back(f["ua"].get<double>());
    }
    EXPECT_EQ(cells[1], name == "svm" ? "classic" : "hybrid");
    EXPECT_EQ(cells[2], pm_text(acc));
    EXPECT_EQ(cells[3], pm_text(ua));
    EXPECT_EQ(cells[7], "\u2014");  // pooled UA: these runs kept no per-utterance predictions
    // Validation UA 0.5 and 0.625 alternating over folds 0..3, both seeds: mean 56.25 %, sample std.
    std::vector<double> val;
    for (const json& f : raw["models"][name]["folds"]) val.push_back(f["validation_ua"].get<double>());
    EXPECT_EQ(cells[8], pm_text(val));
    EXPECT_EQ(cells[9], name == "svm" ? "\u2014" : "123,456");
    EXPECT_EQ(cells[10], "11.5 s");  // train_seconds 10 + fold over folds 0..3
  }
  // Rows in model_order, not key order.
  EXPECT_LT(md.find("| cnn_attn |"), md.find("| cnn |"));
  EXPECT_LT(md.find("| cnn |"), md.find("| svm |"));
  // The significance sentence and the confusion matrix of the best model.
  EXPECT_NE(md.find("- cnn_attn vs cnn: UA +"), std::string::npos) << md;
  EXPECT_NE(md.find("Wilcoxon p "), std::string::npos);
  EXPECT_NE(md.find("(exact, n = "), std::string::npos);
  EXPECT_NE(md.find("zero differences dropped (Wilcoxon's convention)"), std::string::npos);
  EXPECT_NE(md.find("## Confusion matrix of the best model by UA: cnn_attn"), std::string::npos);
  EXPECT_NE(md.find("## Cross-corpus"), std::string::npos);
  // Per-class recall: class 1 absent from fold 1 of every seed is averaged over the other runs.
  const json agg = prepared(raw);
  const std::vector<std::string> cls = markdown_row(md.substr(md.find("## Per-class recall")), "cnn");
  ASSERT_EQ(cls.size(), 1 + kClasses.size());
  std::vector<double> boredom;
  for (const json& f : raw["models"]["cnn"]["folds"])
    if (!f["per_class_recall"][1].is_null()) boredom.push_back(f["per_class_recall"][1].get<double>());
  EXPECT_EQ(boredom.size(), 6u);
  EXPECT_EQ(cls[2], pm_text(boredom));
}

TEST(ExperimentMarkdown, SignificanceSentence) {
  const json e{{"model", "cnn_attn"}, {"baseline", "cnn"}, {"metric", "ua"}, {"pairs", 10}, {"mean_difference", 0.03},
               {"wins", 7}, {"losses", 2}, {"ties", 1},
               {"wilcoxon", {{"statistic", 5.0}, {"p_value", 0.04}, {"method", "exact"}, {"n", 9}, {"zeros_dropped", 1}}},
               {"paired_t", {{"statistic", 2.3}, {"df", 9}, {"p_value", 0.0004}}}};
  EXPECT_EQ(significance_sentence(e),
            "cnn_attn vs cnn: UA +3.0 points, Wilcoxon p = 0.04 (exact, n = 9; 1 zero difference dropped), paired t p < 0.001 "
            "(t = 2.30, df = 9); 7 wins, 2 losses, 1 tie.");
}

// Checks shared by every report: balanced <svg>, no NaN/Inf text, one cm-cell per matrix entry.
void check_report(const std::string& html, std::size_t expected_cells) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_EQ(count_of(html, "<svg"), count_of(html, "</svg>"));
  EXPECT_EQ(count_of(html, "<table"), count_of(html, "</table>"));
  EXPECT_EQ(count_of(html, "<section"), count_of(html, "</section>"));
  EXPECT_EQ(count_of(html, "class=\"cm-cell\""), expected_cells);
  // No word "nan", "inf" or "infinity" outside the base64 of inline images (which may spell anything).
  std::string text = html;
  for (std::size_t p = text.find("base64,"); p != std::string::npos; p = text.find("base64,", p + 7))
    text.erase(p + 7, text.find('"', p) - (p + 7));
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      continue;
    }
    EXPECT_TRUE(word != "nan" && word != "inf" && word != "infinity") << "\"" << word << "\" near: " << text.substr(i > 80 ? i - 80 : 0, 160);
    word.clear();
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);  // nothing executable, nothing fetched
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(ExperimentReport, FullReportIsWellFormed) {
  const json r = prepared(make_results(kClasses, 4, 2, true));
  const std::string html = report_html(r);
  // Three models x k x k cells, plus the 2 x 2 cross-corpus matrix.
  check_report(html, 3 * kClasses.size() * kClasses.size() + 4);
  EXPECT_EQ(count_of(html, "data:image/png;base64,"), 1u);  // the spectrogram
  EXPECT_NE(html.find("No learning curves for svm"), std::string::npos);
  // Per engine model: 8 runs x 3 curves (train loss, val loss, val UA) + 3 means; the attention curve and its halo.
  EXPECT_EQ(count_of(html, "<polyline"), 2u * (8u * 3u + 3u) + 2u);
  EXPECT_NE(html.find("Toy &lt;corpus&gt; &amp; friends"), std::string::npos);
  EXPECT_NE(html.find("cnn_attn vs cnn: UA "), std::string::npos);
}

TEST(ExperimentReport, TextFromTheResultsIsEscaped) {
  json raw = make_results({"<script>alert(1)</script>", "b&b", "\"quoted\"", "it's"}, 2, 1, true);
  raw["models"]["<img src=x onerror=alert(2)>"] = raw["models"]["svm"];
  raw["model_order"].push_back("<img src=x onerror=alert(2)>");
  raw["attention_examples"][0]["path"] = "wav/<b>.wav";
  const json r = prepared(raw);
  const std::string html = report_html(r);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>.wav"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("b&amp;b"), std::string::npos);
  EXPECT_NE(html.find("&quot;quoted&quot;"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  check_report(html, 4 * 16 + 4);
  // Markdown keeps table cells intact when a name holds a pipe.
  raw["models"]["a|b"] = raw["models"]["svm"];
  const std::string md = results_markdown(prepared(raw));
  EXPECT_NE(md.find("| a\\|b |"), std::string::npos);
}

TEST(ExperimentReport, MinimalResultsRenderWithoutOptionalParts) {
  // One run per model, no learning curves, no baseline, no attention, no cross-corpus; results not
  // yet aggregated; a model with no finished runs yet.
  json raw = make_results(kClasses, 1, 1, false);
  raw["models"]["pending"] = {{"approach", "mlp"}, {"folds", json::array()}};
  const std::string html = report_html(raw);
  check_report(html, 3 * kClasses.size() * kClasses.size());
  EXPECT_NE(html.find("No attention examples"), std::string::npos);
  EXPECT_NE(html.find("No significance tests"), std::string::npos);
  EXPECT_NE(html.find("No cross-corpus results"), std::string::npos);
  EXPECT_NE(html.find("\u00b1 0.0"), std::string::npos);  // std of one run
  const std::string md = results_markdown(raw);
  const std::vector<std::string> pending = markdown_row(md, "pending");
  ASSERT_EQ(pending.size(), 12u);
  EXPECT_EQ(pending[3], "\u2014");
  EXPECT_EQ(md.find("nan"), std::string::npos);
  // A malformed attention example is reported, not fatal.
  raw["attention_examples"] = {{{"model", "m"}, {"path", "p.wav"}, {"logmel", {{1, 2}, {3}}}, {"attention", {0.5, 0.5}}}};
  EXPECT_NE(report_html(raw).find("left out"), std::string::npos);
}

TEST(ExperimentReport, PngAndBase64Pieces) {
  // Standard check values: CRC-32 of "123456789", RFC 4648 base64 vectors.
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode(""), "");
  // A 3 x 2 image: signature, IHDR size, every chunk's CRC, and the scanlines inflated back.
  const std::vector<std::uint8_t> rgb{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  const std::string png = encode_png_rgb(3, 2, rgb);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(png[at])) << 24 | static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8 | static_cast<unsigned char>(png[at + 3]);
  };
  std::vector<std::string> types;
  std::string idat;
  for (std::size_t at = 8; at < png.size();) {
    const std::uint32_t len = u32(at);
    const std::string type = png.substr(at + 4, 4);
    EXPECT_EQ(crc32(png.substr(at + 4, 4 + len)), u32(at + 8 + len)) << type;
    if (type == "IHDR") {
      EXPECT_EQ(u32(at + 8), 3u);
      EXPECT_EQ(u32(at + 12), 2u);
    }
    if (type == "IDAT") idat = png.substr(at + 8, len);
    types.push_back(type);
    at += 12 + len;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  // A zlib stream of 2 x (filter byte 0 + 9 bytes).
  const std::string raw = std::string("\0\1\2\3\4\5\6\7\x08\x09", 10) + std::string("\0\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12", 10);
  std::string back(raw.size() + 16, '\0');
  uLongf back_size = back.size();
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(back.data()), &back_size, reinterpret_cast<const Bytef*>(idat.data()),
                       idat.size()), Z_OK);
  back.resize(back_size);
  EXPECT_EQ(back, raw);
  // A 128 x 64 image of smooth colour compresses: the report's images are not stored raw.
  std::vector<std::uint8_t> smooth(128 * 64 * 3);
  for (std::size_t i = 0; i < smooth.size(); ++i) smooth[i] = static_cast<std::uint8_t>((i / 3) % 128);
  EXPECT_LT(encode_png_rgb(128, 64, smooth).size(), smooth.size() / 4);
}

}  // namespace
}  // namespace ser::report
