// ser export — a trained model as a safetensors file (or an ONNX graph) for use outside ser.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "export/onnx_export.hpp"
#include "inference/model_file.hpp"
#include "ser/error.hpp"

namespace ser::cli {
namespace {

struct ExportOptions {
  std::string checkpoint, format = "safetensors", out;
};

void run_export(const ExportOptions& o) {
  const engine::Checkpoint c = inference::load_model_file(o.checkpoint);
  std::int64_t values = 0;
  for (const auto& e : c.param_entries) values += e.count();
  if (o.format == "safetensors") {
    inference::write_safetensors_export(c, o.out);
    // Read it back: the export must hold exactly the weights that were loaded.
    const engine::Checkpoint back = inference::load_model_file(o.out);
    if (back.params != c.params || back.state != c.state || back.class_names != c.class_names ||
        back.normalizer.logmel_mean != c.normalizer.logmel_mean || back.feature_config_json != c.feature_config_json)
      throw file_error(o.out, "read back differently from what was written");
  } else {
    ser::export_onnx(c, o.out);
  }
  std::cerr << "ser export: " << c.param_entries.size() + c.state_entries.size() << " model tensors (" << values
            << " parameters, " << c.class_names.size() << " classes) from " << o.checkpoint << " to " << o.out << " ("
            << o.format << ", " << std::filesystem::file_size(o.out) << " bytes)\n";
}

}  // namespace

void register_export(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Export a trained model (checkpoint or export) as safetensors or ONNX");
  auto o = std::make_shared<ExportOptions>();
  cmd->add_option("--checkpoint", o->checkpoint, "a run's best.h5 / last.h5, or a safetensors export")->required();
  cmd->add_option("--format", o->format, "safetensors (weights + configs, docs/export.md) or onnx (graph)")
      ->check(CLI::IsMember({"safetensors", "onnx"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "output file (written to a temporary name, then renamed)")->required();
  cmd->callback([o] { run_export(*o); });
}

}  // namespace ser::cli
