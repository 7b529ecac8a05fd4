#!/usr/bin/env bash
# Speech for the level comparison (examples/level_chart.rs) and the Opus check
# (conversion/opus_vs_ffmpeg.py): three TTS engines (Debian's espeak-ng 1.51, flite 2.2 with its
# built-in voices, festival 2.5 with festvox-kallpc16k and festvox-kdlpc16k), each clip at the
# rate it is stored at (16, 22.05, 24 or 48 kHz, 16-bit mono WAV), and a noisy and a
# reverberant variant of four clips (sox). Nothing is downloaded.
#   bash conversion/speech_corpus.sh /tmp/corpus
set -euo pipefail
out=${1:?usage: speech_corpus.sh OUT_DIR}
mkdir -p "$out"
texts=(
  "Speech caches hold the audio an app has already spoken: the answers of a voice tutor, the chapters of an audiobook, the replies of an assistant. Keeping them saves the time and the cost of making them again, but a minute of plain audio takes almost two megabytes, and a phone has only so much room. So we compress them, and the question is how far we can go before the voice stops sounding like a voice."
  "The quick brown fox jumps over the lazy dog. Please call Stella and ask her to bring these things with her from the store: six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob. We also need a small plastic snake and a big toy frog for the kids."
  "On the first morning of spring the harbour was full of small boats, their sails folded and their ropes still wet with dew. An old fisherman sat on the pier mending a net, humming a tune he had learned from his father, while the gulls argued over the scraps of last night's catch and the bells of the town began to ring."
  "To reset your password, open the settings page, choose security, and press the button marked change password. You will receive a six digit code by text message. Enter the code within ten minutes, then type your new password twice. If the code does not arrive, wait a minute and ask for another one."
  "Numbers are hard for any codec: three hundred and forty two, nineteen eighty four, seven point five percent, and a telephone number, zero two zero, seven nine four six, zero one three eight. Dates as well: the fourth of December, two thousand and twenty six, at a quarter past eight in the evening."
  "She sells sea shells by the sea shore, and the shells she sells are surely sea shells. Peter Piper picked a peck of pickled peppers. How much wood would a woodchuck chuck if a woodchuck could chuck wood? Red lorry, yellow lorry, red lorry, yellow lorry."
)
# espeak-ng: six voices, two paragraphs each, at its own 22.05 kHz and resampled to 48 kHz.
voices=(en-us en-gb en-us+f3 en-gb-x-rp+m3 en-gb-scotland+f2 en-us+m7)
for i in "${!voices[@]}"; do
  for j in 0 1; do
    k=$(( (i + j * 3) % ${#texts[@]} ))
    name="espeak-${voices[$i]}-$j"
    espeak-ng -v "${voices[$i]}" -s 160 -w "$out/$name-22k.wav" "${texts[$k]}"
    if [ "$j" = 1 ]; then
      sox "$out/$name-22k.wav" -r 48000 "$out/$name-48k.wav" && rm "$out/$name-22k.wav"
    fi
  done
done
# flite: four voices at 16 kHz (kal at 8 kHz is left out), two of them also at 24 kHz.
for voice in slt rms awb kal16; do
  k=$(( ${#voice} % ${#texts[@]} ))
  flite -voice "$voice" -t "${texts[$k]}" -o "$out/flite-$voice-16k.wav"
  flite -voice "$voice" -t "${texts[$(( (k + 2) % ${#texts[@]} ))]}" -o "$out/flite-$voice-b.wav"
  case $voice in
    slt | rms) sox "$out/flite-$voice-b.wav" -r 24000 "$out/flite-$voice-b-24k.wav" ;;
    *) mv "$out/flite-$voice-b.wav" "$out/flite-$voice-b-16k.wav" ;;
  esac
  rm -f "$out/flite-$voice-b.wav"
done
# festival: two diphone voices at 16 kHz.
for voice in kal_diphone ked_diphone; do
  for k in 3 5; do
    echo "${texts[$k]}" | text2wave -eval "(voice_$voice)" -o "$out/festival-$voice-$k-16k.wav"
  done
done
# Noisy (white noise at 15 dB SNR) and reverberant (a 50 % room) variants of four clips.
for clip in espeak-en-us-0-22k flite-slt-16k festival-kal_diphone-3-16k espeak-en-gb-1-48k; do
  src="$out/$clip.wav"
  sox "$src" "$out/$clip-reverb.wav" reverb 50 50 60 && mv "$out/$clip-reverb.wav" "$out/${clip%-*}-reverb-${clip##*-}.wav"
  rms=$(sox "$src" -n stat 2>&1 | awk '/RMS     amplitude/ {print $3}')
  sox -n -r "$(soxi -r "$src")" -c 1 -b 16 "$out/noise.wav" synth "$(soxi -D "$src")" whitenoise vol "$(python3 -c "print($rms * 10 ** (-15 / 20) * 1.7320508)")"
  sox -m "$src" "$out/noise.wav" -b 16 "$out/${clip%-*}-noisy-${clip##*-}.wav"
  rm "$out/noise.wav"
done
for f in "$out"/*.wav; do sox "$f" -c 1 -b 16 "$f.tmp.wav" && mv "$f.tmp.wav" "$f"; done
echo "$(ls "$out"/*.wav | wc -l) clips, $(soxi -DT "$out"/*.wav) s"
