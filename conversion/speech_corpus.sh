#!/usr/bin/env bash
# A few minutes of real speech for the level comparison (examples/level_chart.rs): espeak-ng
# voices (Debian's espeak-ng 1.51) reading different paragraphs, 16-bit mono WAV at 22.05 kHz.
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
voices=(en-us en-gb en-us+f3 en-gb-x-rp+m3 en-gb-scotland+f2 en-us+m7)
for i in "${!voices[@]}"; do
  for j in 0 1; do
    k=$(( (i + j * 3) % ${#texts[@]} ))
    espeak-ng -v "${voices[$i]}" -s 160 -w "$out/${voices[$i]}-$j.wav" "${texts[$k]}"
  done
done
ls "$out" | wc -l
