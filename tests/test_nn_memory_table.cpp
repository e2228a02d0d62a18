// The table of live engine buffers (nn/memory.hpp): every Block is listed while it lives, at its
// allocated size, in allocation order, and leaves the table when freed or moved from; a training
// session's table holds the optimizer's and the batch's buffers beside the model's.
#include <gtest/gtest.h>

#include <string>

#include "nn/memory.hpp"
#include "nn/model.hpp"
#include "ser/model_config.hpp"
#include "train/optimizer.hpp"

namespace ser {
namespace {

TEST(NnMemoryTable, ListsEveryLiveBlockAtItsAllocatedSize) {
  const std::size_t before = nn::live_bytes(Device::cpu);
  {
    nn::Block a(Device::cpu, 1000, "first test block");
    nn::Block b(Device::cpu, 256, "second test block");
    EXPECT_EQ(nn::live_bytes(Device::cpu), before + 1024 + 256);  // rounded up to 256 bytes
    const std::string report = nn::live_memory_report(Device::cpu);
    const auto at_a = report.find("first test block"), at_b = report.find("second test block");
    ASSERT_NE(at_a, std::string::npos) << report;
    ASSERT_NE(at_b, std::string::npos) << report;
    EXPECT_LT(at_a, at_b) << "allocation order";
    EXPECT_NE(report.find("total held"), std::string::npos);
    nn::Block c = std::move(a);  // moved: listed once
    EXPECT_EQ(nn::live_bytes(Device::cpu), before + 1024 + 256);
  }
  EXPECT_EQ(nn::live_bytes(Device::cpu), before);
  EXPECT_EQ(nn::live_memory_report(Device::cpu).find("first test block"), std::string::npos);
  EXPECT_EQ(nn::live_bytes(Device::cuda), 0u);
}

TEST(NnMemoryTable, TheOptimizersMomentsCountBesideTheModel) {
  const std::size_t before = nn::live_bytes(Device::cpu);
  ModelConfig mc;
  mc.conv_channels = {4, 8};
  mc.attention_after = 0;
  mc.dense = {16};
  mc.fuse_prosody = false;
  nn::Model<float> model(mc, nn::ModelInputs{32, 0, 4});
  const nn::ExecContext ctx;
  model.plan(ctx, 4, 50, 1);
  const std::size_t with_model = nn::live_bytes(Device::cpu);
  // The plan's total is the model's blocks: each of its 8 blocks rounds up by less than 256 bytes,
  // and the lengths block carries 256 bytes of alignment slack.
  EXPECT_GE(with_model - before, model.planned_bytes());
  EXPECT_LE(with_model - before, model.planned_bytes() + 9 * 256);
  RunConfig rc;
  const train::Optimizer opt(ctx, model.param_table(), rc.train);
  const std::size_t moments = 2 * sizeof(float) * static_cast<std::size_t>(model.param_table().total());
  EXPECT_GE(nn::live_bytes(Device::cpu) - with_model, moments);
  EXPECT_NE(nn::live_memory_report(Device::cpu).find("Adam second moments"), std::string::npos);
}

}  // namespace
}  // namespace ser
