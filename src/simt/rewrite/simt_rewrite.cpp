// src/simt/rewrite/simt_rewrite.cpp — the build step of the SIMT emulator: copies one CUDA source
// (kernels/*.cu, *.cuh) into the build tree with two mechanical rewrites, so the unmodified kernels
// compile as C++ against the emulator's headers:
//
//   kernel<<<grid, block, smem, stream>>>(args)
//     -> ::simt::launch(kernel, "kernel", __FILE__, __LINE__, grid, block, smem, stream)(args)
//   extern __shared__ T name[];   -> T* const name = ::simt::dynamic_shared_array<T>();
//   __shared__ T a[N], b;         -> auto& a = ::simt::static_shared_var<T [N]>("file:line:a"); auto& b = ...;
//
// The output starts with `#line 1 "<original path>"` and keeps every line where it was, so compiler
// messages and the emulator's diagnostics name the original file and line. A construct it does not
// understand is an error naming file:line (a kernel must never be rewritten wrongly in silence).
//
// Usage: simt_rewrite INPUT OUTPUT [--plant FIND REPLACE]
//   A .cu input also gets #include <cuda_runtime.h> first, as nvcc includes it implicitly.
//   --plant replaces the one occurrence of FIND by REPLACE before rewriting (in both, `\n` stands
//   for a newline and `\s` for a semicolon, which CMake lists cannot carry): the
//   emulator's planted-bug tests (tests/simt/) make their faulty kernel copies this way, with every
//   diagnostic still naming the original file.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Edit {
  std::size_t begin, end;  // [begin, end) of the original text
  std::string text;
};

[[noreturn]] void fail(const std::string& file, const std::string& text, std::size_t pos, const std::string& why) {
  const long line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n');
  throw std::runtime_error(file + ":" + std::to_string(line) + ": simt_rewrite: " + why);
}

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The text with comments and string/character literals blanked (newlines kept), so searches see code
// only and positions stay those of the original.
std::string code_only(const std::string& s) {
  std::string m = s;
  std::size_t i = 0;
  const auto blank = [&](std::size_t from, std::size_t to) {
    for (std::size_t k = from; k < to && k < m.size(); ++k)
      if (m[k] != '\n') m[k] = ' ';
  };
  while (i < s.size()) {
    if (s.compare(i, 2, "//") == 0) {
      const std::size_t e = s.find('\n', i);
      const std::size_t end = e == std::string::npos ? s.size() : e;
      blank(i, end);
      i = end;
    } else if (s.compare(i, 2, "/*") == 0) {
      const std::size_t e = s.find("*/", i + 2);
      const std::size_t end = e == std::string::npos ? s.size() : e + 2;
      blank(i, end);
      i = end;
    } else if (s[i] == 'R' && i + 1 < s.size() && s[i + 1] == '"' && (i == 0 || !ident_char(s[i - 1]))) {
      const std::size_t open = s.find('(', i + 2);
      if (open == std::string::npos) break;
      const std::string close = ")" + s.substr(i + 2, open - i - 2) + "\"";
      const std::size_t e = s.find(close, open);
      const std::size_t end = e == std::string::npos ? s.size() : e + close.size();
      blank(i + 1, end);
      i = end;
    } else if (s[i] == '"' || (s[i] == '\'' && (i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]))))) {
      const char q = s[i];
      std::size_t k = i + 1;
      while (k < s.size() && s[k] != q && s[k] != '\n') k += s[k] == '\\' ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
    } else {
      ++i;
    }
  }
  return m;
}

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const std::size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s;
}

std::string basename(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// kernel<<<cfg>>>: the kernel expression ends before `<<<`; walk back over a (qualified) name and
// template arguments.
void rewrite_launches(const std::string& file, const std::string& s, const std::string& m, std::vector<Edit>& edits) {
  for (std::size_t at = m.find("<<<"); at != std::string::npos; at = m.find("<<<", at + 3)) {
    const std::size_t close = m.find(">>>", at + 3);
    if (close == std::string::npos) fail(file, s, at, "`<<<` without `>>>`");
    std::size_t b = at;
    while (b > 0 && std::isspace(static_cast<unsigned char>(m[b - 1]))) --b;
    for (;;) {
      if (b > 0 && m[b - 1] == '>') {  // template arguments
        int depth = 0;
        std::size_t k = b;
        do {
          --k;
          if (m[k] == '>') ++depth;
          else if (m[k] == '<') --depth;
        } while (k > 0 && depth > 0);
        if (depth != 0) fail(file, s, at, "unbalanced template arguments before `<<<`");
        b = k;
      }
      const std::size_t name_end = b;
      while (b > 0 && ident_char(m[b - 1])) --b;
      if (b == name_end) fail(file, s, at, "no kernel name before `<<<`");
      if (b >= 2 && m[b - 1] == ':' && m[b - 2] == ':') {
        b -= 2;
        continue;
      }
      break;
    }
    const std::string kernel = s.substr(b, at - b);
    const std::string config = s.substr(at + 3, close - at - 3);
    if (trim(config).empty()) fail(file, s, at, "empty launch configuration");
    edits.push_back({b, close + 3,
                     "::simt::launch(" + kernel + ", \"" + one_line(trim(kernel)) + "\", __FILE__, __LINE__, " + config + ")"});
  }
}

// Splits a declarator list at commas outside (), [] and <>.
std::vector<std::string> split_declarators(const std::string& body) {
  std::vector<std::string> parts;
  int paren = 0, square = 0, angle = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '(') ++paren;
    else if (c == ')') --paren;
    else if (c == '[') ++square;
    else if (c == ']') --square;
    else if (c == '<' && paren == 0 && square == 0) ++angle;
    else if (c == '>' && paren == 0 && square == 0) --angle;
    else if (c == ',' && paren == 0 && square == 0 && angle == 0) {
      parts.push_back(body.substr(from, i - from));
      from = i + 1;
    }
  }
  parts.push_back(body.substr(from));
  return parts;
}

struct Declarator {
  std::string name, dims;  // dims: "[a][b]" or ""
};

// "name[dims]" at the end of `part`; `type_end` receives where the name starts.
Declarator parse_declarator(const std::string& part, std::size_t* name_begin) {
  std::size_t dims = part.find('[');
  if (dims == std::string::npos) dims = part.size();
  std::size_t e = dims;
  while (e > 0 && std::isspace(static_cast<unsigned char>(part[e - 1]))) --e;
  std::size_t b = e;
  while (b > 0 && ident_char(part[b - 1])) --b;
  *name_begin = b;
  return Declarator{part.substr(b, e - b), trim(part.substr(dims))};
}

void rewrite_shared(const std::string& file, const std::string& s, const std::string& m, std::vector<Edit>& edits) {
  const std::string word = "__shared__";
  for (std::size_t at = m.find(word); at != std::string::npos; at = m.find(word, at + word.size())) {
    if ((at > 0 && ident_char(m[at - 1])) || (at + word.size() < m.size() && ident_char(m[at + word.size()]))) continue;
    const std::size_t semi = m.find(';', at);
    if (semi == std::string::npos) fail(file, s, at, "__shared__ declaration without `;`");
    // The word before __shared__ decides the form.
    std::size_t p = at;
    while (p > 0 && std::isspace(static_cast<unsigned char>(m[p - 1]))) --p;
    std::size_t q = p;
    while (q > 0 && ident_char(m[q - 1])) --q;
    const std::string before = m.substr(q, p - q);
    const std::string body = s.substr(at + word.size(), semi - at - word.size());
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    const std::string key_prefix = basename(file) + ":" + std::to_string(line) + ":";
    if (before == "extern") {
      std::size_t name_begin = 0;
      const Declarator d = parse_declarator(body, &name_begin);
      const std::string type = trim(body.substr(0, name_begin));
      if (d.name.empty() || type.empty() || d.dims != "[]" || body.find(',') != std::string::npos)
        fail(file, s, at, "expected `extern __shared__ T name[];`");
      edits.push_back({q, semi + 1, type + "* const " + d.name + " = ::simt::dynamic_shared_array<" + type + ">();"});
      continue;
    }
    if (before == "static" || before == "volatile" || before == "const")
      fail(file, s, at, "`" + before + " __shared__` is not supported by the emulator's rewriter");
    const std::vector<std::string> parts = split_declarators(body);
    std::size_t name_begin = 0;
    const Declarator first = parse_declarator(parts[0], &name_begin);
    const std::string type = trim(parts[0].substr(0, name_begin));
    if (first.name.empty() || type.empty()) fail(file, s, at, "expected `__shared__ T name[dims]...;`");
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::size_t nb = 0;
      const Declarator d = i == 0 ? first : parse_declarator(parts[i], &nb);
      if (i > 0 && (d.name.empty() || !trim(parts[i].substr(0, nb)).empty()))
        fail(file, s, at, "unsupported declarator `" + trim(parts[i]) + "`");
      if (d.dims.find("[]") != std::string::npos || parts[i].find('=') != std::string::npos)
        fail(file, s, at, "static __shared__ `" + d.name + "` needs a size and no initialiser");
      out += (i ? " " : "") + std::string("auto& ") + d.name + " = ::simt::static_shared_var<" + type +
             (d.dims.empty() ? "" : " " + d.dims) + ">(\"" + key_prefix + d.name + "\");";
    }
    edits.push_back({at, semi + 1, out});
  }
}

std::string apply(const std::string& s, std::vector<Edit> edits) {
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  std::string out;
  std::size_t pos = 0;
  for (const Edit& e : edits) {
    if (e.begin < pos) throw std::runtime_error("simt_rewrite: overlapping rewrites");
    out += s.substr(pos, e.begin - pos);
    std::string text = e.text;
    // Keep every later line on its original line number.
    const auto had = std::count(s.begin() + static_cast<std::ptrdiff_t>(e.begin), s.begin() + static_cast<std::ptrdiff_t>(e.end), '\n');
    const auto has = std::count(text.begin(), text.end(), '\n');
    if (has > had) throw std::runtime_error("simt_rewrite: a rewrite added lines");
    text.append(static_cast<std::size_t>(had - has), '\n');
    out += text;
    pos = e.end;
  }
  return out + s.substr(pos);
}

// `\n` -> newline, `\s` -> semicolon.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == 's')) {
      out += s[i + 1] == 'n' ? '\n' : ';';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The planted bug: FIND must occur exactly once, so a kernel edit can never leave a planted-bug test
// silently testing the unchanged kernel.
std::string plant(const std::string& path, std::string text, const std::string& find, const std::string& replace) {
  const std::size_t at = text.find(find);
  if (find.empty() || at == std::string::npos) throw std::runtime_error(path + ": simt_rewrite --plant: text not found: " + find);
  if (text.find(find, at + 1) != std::string::npos)
    throw std::runtime_error(path + ": simt_rewrite --plant: text occurs more than once: " + find);
  return text.replace(at, find.size(), replace);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 6 && std::string(argv[3]) == "--plant")) {
    std::cerr << "usage: simt_rewrite INPUT OUTPUT [--plant FIND REPLACE]\n";
    return 2;
  }
  const std::string in_path = argv[1], out_path = argv[2];
  try {
    std::ifstream in(in_path, std::ios::binary);
    if (!in) throw std::runtime_error(in_path + ": cannot read");
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    if (argc == 6) text = plant(in_path, text, unescape(argv[4]), unescape(argv[5]));
    const std::string masked = code_only(text);
    std::vector<Edit> edits;
    rewrite_launches(in_path, text, masked, edits);
    rewrite_shared(in_path, text, masked, edits);
    std::string out;
    const bool is_cu = in_path.size() > 3 && in_path.compare(in_path.size() - 3, 3, ".cu") == 0;
    if (is_cu) out += "#include <cuda_runtime.h>  // nvcc includes it implicitly\n";
    out += "#line 1 \"" + in_path + "\"\n" + apply(text, edits);
    const std::string tmp = out_path + ".tmp";
    {
      std::ofstream o(tmp, std::ios::binary);
      o << out;
      if (!o) throw std::runtime_error(tmp + ": cannot write");
    }
    if (std::rename(tmp.c_str(), out_path.c_str()) != 0) throw std::runtime_error(out_path + ": cannot rename into place");
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
