// A small RFC 4180 CSV reader for manifest files.
#include <cctype>

#include "corpus/adapters.hpp"
#include "ser/error.hpp"

namespace ser::corpus {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

class CsvParser {
 public:
  CsvParser(const std::string& text, const std::string& path) : s_(text), path_(path) {
    if (s_.compare(0, 3, "\xEF\xBB\xBF") == 0) i_ = 3;
  }

  std::vector<CsvRecord> parse() {
    std::vector<CsvRecord> records;
    while (i_ < s_.size()) {
      CsvRecord rec;
      rec.line = line_;
      for (;;) {
        rec.fields.push_back(field());
        if (i_ >= s_.size()) break;
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        end_of_line();  // field() stops only at ',', a line break or the end
        break;
      }
      const bool blank = rec.fields.size() == 1 && rec.fields[0].empty();
      if (!blank) records.push_back(std::move(rec));
    }
    return records;
  }

 private:
  bool at_line_break() const { return i_ < s_.size() && (s_[i_] == '\n' || s_[i_] == '\r'); }

  void end_of_line() {
    if (s_[i_] == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') ++i_;
    ++i_;
    ++line_;
  }

  std::string field() {
    while (i_ < s_.size() && is_blank(s_[i_])) ++i_;
    if (i_ < s_.size() && s_[i_] == '"') return quoted();
    const std::size_t begin = i_;
    while (i_ < s_.size() && s_[i_] != ',' && !at_line_break()) ++i_;
    std::size_t end = i_;
    while (end > begin && is_blank(s_[end - 1])) --end;
    return s_.substr(begin, end - begin);
  }

  std::string quoted() {
    const int start_line = line_;
    ++i_;  // opening quote
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) {
        throw Error(path_ + ":" + std::to_string(start_line) + ": unterminated quoted field");
      }
      const char c = s_[i_++];
      if (c == '"') {
        if (i_ < s_.size() && s_[i_] == '"') {  // "" is a literal quote
          out += '"';
          ++i_;
          continue;
        }
        break;
      }
      if (c == '\n' || (c == '\r' && !(i_ < s_.size() && s_[i_] == '\n'))) ++line_;
      out += c;
    }
    while (i_ < s_.size() && is_blank(s_[i_])) ++i_;
    if (i_ < s_.size() && s_[i_] != ',' && !at_line_break()) {
      throw Error(path_ + ":" + std::to_string(line_) + ": unexpected text after a closing quote");
    }
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& path) {
  return CsvParser(text, path).parse();
}

void require_header_width(const CsvRecord& rec, std::size_t header_width, const std::string& at) {
  if (rec.fields.size() != header_width) {
    throw Error(at + ": expected " + std::to_string(header_width) + " fields as in the header, found " +
                std::to_string(rec.fields.size()));
  }
}

}  // namespace ser::corpus
