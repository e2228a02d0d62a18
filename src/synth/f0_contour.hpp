// synth/f0_contour.hpp — the continuous F0 contour of an utterance.
#pragma once
#include "synth/timeline.hpp"
#include "synth/utterance_voice.hpp"

namespace ser::synth {

// F0 in Hz at time t (seconds from the start of the utterance), defined everywhere so the glottal
// phase can run on through unvoiced stretches without a jump.
double f0_at(const Timeline& tl, const UtteranceVoice& voice, double t);

}  // namespace ser::synth
