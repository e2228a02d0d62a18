# tools/praat_pitch.praat — Praat's reference F0 track for every WAV file of a folder, on ser's frame
# grid. Usage: praat --run tools/praat_pitch.praat WAV_DIR OUT_DIR
#
# Analysis: To Pitch (ac), time step 0.01 s, floor 75 Hz, ceiling 600 Hz, Praat's defaults otherwise
# (15 candidates, not very accurate, silence 0.03, voicing 0.45, octave cost 0.01, octave-jump cost
# 0.35, voiced/unvoiced cost 0.14).
#
# Praat centres its frame grid in the signal (first frame at duration/2 - (frames-1)*step/2), so its
# frames usually fall between ser's (ser's frame t is centred on sample t*160, t*0.01 s at 16 kHz).
# To compare frame by frame, the script appends the fewest zero samples (< 0.03 s) that put Praat's
# frame centres exactly on ser's grid; the appended silence changes nothing before the end of the
# signal. It writes OUT_DIR/NAME.f0 for WAV_DIR/NAME.wav: one line per Praat frame,
# "time_s f0_hz", time measured from the centre of the first sample (ser's convention: sample i at
# i / sample_rate s), f0 0 when Praat calls the frame unvoiced.
form Praat pitch of a folder
  sentence wav_dir
  sentence out_dir
endform

step = 0.01
files = Create Strings as file list: "files", wav_dir$ + "/*.wav"
n = Get number of strings
for i to n
  selectObject: files
  name$ = Get string: i
  sound = Read from file: wav_dir$ + "/" + name$
  sr = Get sampling frequency
  nsamp = Get number of samples
  pad = 0
  aligned = 0
  tries = 0
  padded = sound
  while aligned = 0 and tries < 8
    selectObject: padded
    pitch = To Pitch (ac): step, 75, 15, "no", 0.03, 0.45, 0.01, 0.35, 0.14, 600
    t1 = Get time from frame number: 1
    # offset of the first frame from ser's grid, in half samples, in [0, 2*step*sr)
    off = round (2 * (t1 - 0.5 / sr) * sr) mod round (2 * step * sr)
    if off = 0
      aligned = 1
    else
      removeObject: pitch
      if padded <> sound
        removeObject: padded
      endif
      # appending p samples moves the grid by p half samples (and back by half a step per extra frame)
      pad = pad + round (2 * step * sr) - off
      if pad >= 3 * round (step * sr)
        pad = pad - 2 * round (step * sr)
      endif
      zeros = Create Sound from formula: "zeros", 1, 0, pad / sr, sr, "0"
      selectObject: sound, zeros
      padded = Concatenate
      removeObject: zeros
    endif
    tries = tries + 1
  endwhile
  if aligned = 0
    exitScript: "praat_pitch: could not align the frame grid of ", name$
  endif
  selectObject: pitch
  frames = Get number of frames
  text$ = ""
  for f to frames
    t = Get time from frame number: f
    if t - 0.5 / sr < nsamp / sr
      v = Get value in frame: f, "Hertz"
      if v = undefined
        v = 0
      endif
      text$ = text$ + fixed$ (t - 0.5 / sr, 6) + " " + fixed$ (v, 4) + newline$
    endif
  endfor
  base$ = replace$ (name$, ".wav", "", 1)
  writeFile: out_dir$ + "/" + base$ + ".f0", text$
  removeObject: pitch
  if padded <> sound
    removeObject: padded
  endif
  removeObject: sound
endfor
removeObject: files
writeInfoLine: "praat_pitch: ", n, " files -> ", out_dir$
