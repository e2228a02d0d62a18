// src/report/report_style.cpp — the inline style sheet of report.html (system fonts only).
#include "report/report_html.hpp"

namespace ser::report {

const char* report_css() {
  return R"css(
:root { --ink: #1d2330; --muted: #5b6474; --line: #d9dde5; --panel: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0; background: #ffffff; color: var(--ink); font: 14px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 22px 24px 40px; }
h1 { font-size: 25px; margin: 0 0 6px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 4px; }
nav { font-size: 13px; margin: 8px 0 0; }
nav a { color: #1f5fa8; margin-right: 14px; text-decoration: none; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 10px 0 0; font-size: 13.5px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; }
code { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; background: var(--panel); padding: 1px 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 6px 0 8px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 11px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; vertical-align: top; }
th { background: var(--panel); font-weight: 600; font-size: 13px; }
th.name, td.name { text-align: left; }
td.name .desc { display: block; color: var(--muted); font-size: 12px; white-space: normal; max-width: 360px; }
td.best { font-weight: 700; }
.pm { color: var(--muted); font-size: 12px; }
p.note { color: var(--muted); font-size: 12.5px; max-width: 1100px; margin: 4px 0 10px; }
ul.sentences { margin: 6px 0; padding-left: 20px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px 26px; align-items: flex-start; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px 6px; }
.card .figures { gap: 8px 12px; }
.card .desc { color: var(--muted); font-size: 12px; margin: 0 0 4px; }
figure { margin: 0; }
figure.card { width: fit-content; max-width: 100%; }
figcaption { font-size: 13px; margin: 2px 0 4px; }
figcaption .muted { color: var(--muted); }
.ok { color: #1b7f3a; font-weight: 600; }
.wrong { color: #b3261e; font-weight: 600; }
svg { display: block; }
svg text { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: #1d2330; }
svg .tick { font-size: 10.5px; fill: #5b6474; }
svg .axis-label { font-size: 11.5px; fill: #1d2330; }
svg .legend { font-size: 11px; fill: #1d2330; }
svg .class-label { font-size: 11.5px; fill: #1d2330; }
svg .group-label { font-size: 12px; fill: #1d2330; }
svg .cell-count { font-size: 13px; }
svg .cell-pct { font-size: 9.5px; }
svg .plot-bg { fill: #ffffff; }
svg .plot-frame { fill: none; stroke: #8a93a3; stroke-width: 1; }
svg .grid { stroke: #e8eaf0; stroke-width: 1; }
svg .axis { stroke: #8a93a3; stroke-width: 1; }
svg .error-bar { stroke: #1d2330; stroke-width: 1.1; fill: none; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
)css";
}

}  // namespace ser::report
