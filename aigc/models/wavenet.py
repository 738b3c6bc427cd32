"""WaveNet (van den Oord et al. 2016): a clip written one 8-bit mu-law sample at a time, each sample a
256-way choice given every sample before it within the receptive field, conditioned globally on a class
and, as a vocoder, locally on a log-mel spectrogram.

The network: the codes embedded, a causal convolution (kernel 2), then `stacks` stacks of `layers`
dilated causal convolutions (kernel 2, dilations 1, 2, ..., 2 ** (layers - 1)), each with the gated
activation tanh(W_f x + V_f h + U_f y) * sigmoid(W_g x + V_g h + U_g y), a residual 1x1 convolution back
into the layer's input and a skip 1x1 convolution into the sum that the output head (ReLU, 1x1, ReLU,
1x1) turns into 256 logits. h is the class (global conditioning, the paper's eq. 3); y is the spectrogram
brought to the sample rate (local conditioning, the paper's section 2.5), as in the WaveNet
vocoder of Tacotron 2 (Shen et al. 2018), which writes speech from a predicted mel spectrogram.

Local conditioning is cheap by construction: a convolution over three frames (and a nonlinearity) reads
the spectrogram, and one 1x1 convolution turns each frame into the gate biases of every layer at once.
Both run at the frame rate; the biases are then repeated to the sample rate (nearest frame), so nothing
of the conditioning runs per sample. Alignment: the spectrogram comes from a centred STFT with hop `hop`,
whose frame f is centred on sample f * hop, so sample t takes frame round(t / hop) (ties upward: frame
floor((t + hop / 2) / hop)), the last frame standing in for any beyond the spectrogram's end. Sample t is
the sample that position t's logits predict: logits[..., t] of `forward` and the t-th step of generation.

Generation follows Fast WaveNet (Paine et al. 2016): each layer keeps a queue of what its dilated
convolution needs from the past, so a new sample costs one small matrix product per layer instead of a
convolution over the receptive field. The step is dominated by the fixed cost of each tensor operation,
not by arithmetic, so `CachedWaveNet` folds the model into as few operations per layer as it can:
- a layer's two taps share one product: x(t) @ [W_now | W_past] gives the part of the gate that x(t)
  contributes now and the part it will contribute d steps later, which waits in the layer's queue; that
  second product also adds the gate biases of the sample d steps later (its conditioning, global and
  local), so conditioning costs no operation in the step;
- sigmoid(b) = (1 + tanh(b / 2)) / 2, so the gate is one tanh over both halves and one addcmul, the
  halves folded into the weights;
- the skip outputs are not summed layer by layer: the gated activations of every layer sit side by side
  in one buffer, which one product with the stacked skip weights turns into the skip sum;
- every buffer and every view of one is made once, before the first step; sampling draws Gumbel noise
  for a chunk of steps at once (argmax of logits + Gumbel noise is a sample of the softmax).
Clips generated together share each operation, so a batch of clips costs little more than one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

QUANTA = 256
SILENCE = QUANTA // 2  # the mu-law code of 0.0: what a clip is taken to start from
CHUNK = 800  # samples between reports to `on_chunk` (a tenth of a second at 8 kHz)


class WaveNet(nn.Module):
    """`forward(codes (N, T), label (N,), mel (N, mels, frames))` -> logits (N, 256, T); logits[..., t]
    predict the sample after codes[:, t], which takes its conditioning from frame round(t / hop) of `mel`.

    `classes` labels plus one more, `classes`, that means "no label". `mels` None: no local conditioning
    (and no `mel` argument)."""

    def __init__(self, residual: int = 32, skip: int = 64, layers: int = 8, stacks: int = 2, classes: int = 10,
                 mels: int | None = 64, mel_width: int = 128, hop: int = 128):
        super().__init__()
        self.config = {"residual": residual, "skip": skip, "layers": layers, "stacks": stacks, "classes": classes,
                       "mels": mels, "mel_width": mel_width, "hop": hop}
        self.dilations = [2 ** i for i in range(layers)] * stacks
        self.no_label = classes
        self.mels, self.hop = mels, hop
        gates = 2 * residual * len(self.dilations)  # every layer's gate biases side by side
        self.embed = nn.Embedding(QUANTA, residual)
        self.inp = nn.Conv1d(residual, residual, 2)
        self.dilated = nn.ModuleList(nn.Conv1d(residual, 2 * residual, 2, dilation=d) for d in self.dilations)
        # Each layer's gate gets its own projection of the class: one table holds all of them.
        self.condition = nn.Embedding(classes + 1, gates)
        nn.init.normal_(self.condition.weight, std=0.1)
        if mels:
            self.mel_in = nn.Conv1d(mels, mel_width, 3, padding=1)
            self.mel_out = nn.Conv1d(mel_width, gates, 1)
        # The last layer's output feeds only the skip sum. Residual and skip convolutions have no bias:
        # one bias on the skip sum stands for the skip biases, and the next layer's bias for the residual's.
        self.res_skip = nn.ModuleList(
            nn.Conv1d(residual, (residual if i < len(self.dilations) - 1 else 0) + skip, 1, bias=False)
            for i in range(len(self.dilations)))
        self.skip_bias = nn.Parameter(torch.zeros(skip))
        self.head1 = nn.Conv1d(skip, skip, 1)
        self.head2 = nn.Conv1d(skip, QUANTA, 1)

    @property
    def receptive_field(self) -> int:
        """How many samples, the newest included, the logits of one step depend on."""
        return 2 + sum(self.dilations)

    def gate_biases(self, label: torch.Tensor, mel: torch.Tensor | None) -> torch.Tensor:
        """Every layer's gate biases (conditioning and the convolutions' own), frame by frame:
        (N, frames, 2 * residual * layers); one frame when there is no local conditioning."""
        biases = self.condition(label) + torch.cat([conv.bias for conv in self.dilated])
        if not self.mels:
            return biases.unsqueeze(1)
        if mel is None:
            raise ValueError("this WaveNet is conditioned on a mel spectrogram: pass `mel` (N, mels, frames)")
        local = self.mel_out(F.leaky_relu(self.mel_in(mel.to(biases.dtype)), 0.2))
        return local.transpose(1, 2) + biases.unsqueeze(1)

    def frame_of(self, samples: torch.Tensor, frames: int) -> torch.Tensor:
        """The frame each sample takes its conditioning from: round(t / hop), at most the last one."""
        return torch.div(samples + self.hop // 2, self.hop, rounding_mode="floor").clamp_max(frames - 1)

    def forward(self, codes: torch.Tensor, label: torch.Tensor, mel: torch.Tensor | None = None) -> torch.Tensor:
        # Rows of (N * T, channels), each convolution tap a matrix product: a dilated Conv1d on a CPU falls
        # back to a slow im2col path, while these are one large GEMM each, and addmm adds the residual and
        # the skip sum inside the GEMM instead of in separate passes over memory.
        n, t = codes.shape
        r = self.config["residual"]
        x = self.embed(codes)
        w = self.inp.weight
        x = (F.linear(x, w[:, :, 1], self.inp.bias) + _delay(F.linear(x, w[:, :, 0]), 1)).reshape(n * t, r)
        biases = self.gate_biases(label, mel)  # (n, frames, all gates): small, at the frame rate
        at = self.frame_of(torch.arange(t, device=codes.device), biases.shape[1])
        skip = self.skip_bias
        last = len(self.dilations) - 1
        for i, (conv, res_skip, d) in enumerate(zip(self.dilated, self.res_skip, self.dilations)):
            # each sample's biases from its frame (a gather per layer keeps no (n, t, all gates) tensor alive),
            # added inside the present tap's GEMM
            rows = biases[:, :, 2 * r * i:2 * r * (i + 1)][:, at].reshape(n * t, 2 * r)
            gate = torch.addmm(rows, x, conv.weight[:, :, 1].t()).view(n, t, 2 * r)
            if d < t:  # the tap d samples back (zeros before the clip)
                gate[:, d:] += (x @ conv.weight[:, :, 0].t()).view(n, t, 2 * r)[:, :t - d]
            a, b = gate.chunk(2, dim=2)
            z = (torch.tanh(a) * torch.sigmoid(b)).reshape(n * t, r)
            weight = res_skip.weight[:, :, 0]
            skip = torch.addmm(skip, z, weight[-self.config["skip"]:].t())
            if i < last:
                x = torch.addmm(x, z, weight[:r].t())
        h = F.relu(F.linear(F.relu(skip), self.head1.weight[:, :, 0], self.head1.bias))
        return F.linear(h, self.head2.weight[:, :, 0], self.head2.bias).view(n, t, QUANTA).transpose(1, 2)

    def generate(self, label: torch.Tensor, mel: torch.Tensor | None, samples: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None,
                 on_chunk: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:
        """Codes (N, samples) written one step at a time for the labels (N,) and spectrograms
        (N, mels, frames) (None for a model without local conditioning), starting after silence.

        `temperature` 0 takes the likeliest code at each step. `on_chunk(done, codes)` hears every
        CHUNK samples (and at the end) with the codes written so far, (N, done). The step loop's
        operations are microseconds long, so it runs fastest on one thread; it uses the threads torch
        is given (setting them is process-wide, which the caller decides)."""
        with torch.inference_mode():
            cache = CachedWaveNet(self, label, mel, temperature)
            out = torch.empty(samples, len(label), dtype=torch.long)
            code = torch.full((len(label),), SILENCE, dtype=torch.long)
            for start in range(0, samples, CHUNK):
                n = min(CHUNK, samples - start)
                noise = None
                if temperature > 0:  # Gumbel-max: argmax(logits / T + G) samples softmax(logits / T)
                    uniform = torch.rand(n, len(label), QUANTA, generator=generator)
                    noise = -torch.log(-torch.log(uniform.clamp_(1e-10, 1 - 1e-7)))
                for i in range(n):
                    logits = cache.step(code)
                    if noise is not None:
                        logits.add_(noise[i])
                    torch.argmax(logits, dim=1, out=out[start + i])
                    code = out[start + i]
                if on_chunk is not None:
                    on_chunk(start + n, out[:start + n].t())
            return out.t().contiguous()


class CachedWaveNet:
    """A WaveNet's weights laid out for one step at a time, with its queues, for N clips of given labels
    and spectrograms.

    `step(codes (N,))` takes the newest code of each clip and returns the logits of the next one
    (divided by the temperature), (N, 256): the same numbers as `forward` on the whole sequence, up to
    rounding. The returned tensor is a buffer that the next step overwrites."""

    def __init__(self, model: WaveNet, label: torch.Tensor, mel: torch.Tensor | None = None,
                 temperature: float = 1.0):
        cfg = model.config
        r, s = cfg["residual"], cfg["skip"]
        n = len(label)
        layers = len(model.dilations)
        self.dilations = model.dilations
        self.t = 0
        # Built under no_grad, not inference_mode: a caller may step outside inference mode.
        with torch.no_grad():
            p = next(model.parameters())
            device, dtype = p.device, p.dtype
            label = label.to(device)
            half = torch.ones(2 * r, device=device, dtype=dtype)
            half[r:] = 0.5  # the sigmoid half: sigmoid(b) = (1 + tanh(b / 2)) / 2
            # Input: embedding and causal convolution as two tables of what a code adds now and one step later.
            emb, w = model.embed.weight, model.inp.weight  # w (out, in, 2): tap 0 the past sample, tap 1 the present
            self.inp_now = (emb @ w[:, :, 1].t() + model.inp.bias).contiguous()
            self.inp_later = (emb @ w[:, :, 0].t()).contiguous()
            self.inp_queue = torch.zeros(n, r, device=device, dtype=dtype)
            self.x = torch.empty(n, r, device=device, dtype=dtype)
            # The gate biases of every frame, layer and clip, computed once for the whole clip: (frames, layers,
            # n, 2r), and a view of each (frame, layer) made now so that a step only picks one from a list.
            frames = model.gate_biases(label, None if mel is None else mel.to(device))
            frames = (frames.view(n, -1, layers, 2 * r) * half).permute(1, 2, 0, 3).contiguous()
            self.biases = [list(frame.unbind(0)) for frame in frames.unbind(0)]
            self.hop, self.last = model.hop, len(self.biases) - 1
            self.now, self.later, self.gates, self.queues, self.res = [], [], [], [], []
            self.z_all = torch.empty(n, layers * r, device=device, dtype=dtype)
            self.z = [self.z_all[:, i * r:(i + 1) * r] for i in range(layers)]
            for i, (conv, res_skip, d) in enumerate(zip(model.dilated, model.res_skip, model.dilations)):
                self.now.append((conv.weight[:, :, 1].t() * half).contiguous())  # (r, 2r)
                self.later.append((conv.weight[:, :, 0].t() * half).contiguous())
                # A queue slot holds the past tap's part of the gate plus the biases of its sample; before the
                # clip, the zero padding's part is the biases alone.
                self.queues.append([self.bias(j, i).clone() for j in range(d)])
                gate = torch.empty(n, 2 * r, device=device, dtype=dtype)
                self.gates.append((gate, gate[:, :r], gate[:, r:]))
                # z = tanh(a) * (1 + tanh(b / 2)) is twice the paper's gate: halve what reads it
                w = res_skip.weight[:, :, 0].t() * 0.5  # (r, residual + skip)
                self.res.append(w[:, :r].contiguous() if i < layers - 1 else None)
            skips = [rs.weight[-s:, :, 0].t() * 0.5 for rs in model.res_skip]
            self.skip_w = torch.cat(skips, 0).contiguous()  # (layers * r, s)
            self.skip_b = model.skip_bias.expand(n, s).contiguous()
            self.skip = torch.empty(n, s, device=device, dtype=dtype)
            self.h1_w = model.head1.weight[:, :, 0].t().contiguous()
            self.h1_b = model.head1.bias.expand(n, s).contiguous()
            self.h1 = torch.empty(n, s, device=device, dtype=dtype)
            scale = 1.0 / temperature if temperature > 0 else 1.0
            self.h2_w = (model.head2.weight[:, :, 0].t() * scale).contiguous()
            self.h2_b = (model.head2.bias * scale).expand(n, QUANTA).contiguous()
            self.logits = torch.empty(n, QUANTA, device=device, dtype=dtype)

    def bias(self, t: int, layer: int) -> torch.Tensor:
        """Layer `layer`'s gate biases for sample t, (n, 2r): those of frame round(t / hop)."""
        return self.biases[min((t + self.hop // 2) // self.hop, self.last)][layer]

    def step(self, codes: torch.Tensor) -> torch.Tensor:
        t = self.t
        self.t += 1
        x = self.x
        torch.index_select(self.inp_now, 0, codes, out=x)
        x.add_(self.inp_queue)
        torch.index_select(self.inp_later, 0, codes, out=self.inp_queue)
        biases, hop, half, last = self.biases, self.hop, self.hop // 2, self.last
        for i, (now, later, (gate, a, b), queue, res, z, d) in enumerate(zip(
                self.now, self.later, self.gates, self.queues, self.res, self.z, self.dilations)):
            slot = queue[t % d]
            torch.addmm(slot, x, now, out=gate)  # slot: the tap d steps back and this sample's biases
            # this step's part of the gate d steps on, with the biases of that sample
            torch.addmm(biases[min((t + d + half) // hop, last)][i], x, later, out=slot)
            gate.tanh_()
            torch.addcmul(a, a, b, out=z)
            if res is not None:
                x.addmm_(z, res)
        torch.addmm(self.skip_b, self.z_all, self.skip_w, out=self.skip).relu_()
        torch.addmm(self.h1_b, self.skip, self.h1_w, out=self.h1).relu_()
        return torch.addmm(self.h2_b, self.h1, self.h2_w, out=self.logits)


def _delay(x: torch.Tensor, d: int) -> torch.Tensor:
    """(N, T, C) moved d steps later along time, zeros coming in: what a causal tap d steps back sees."""
    return F.pad(x, (0, 0, d, 0))[:, :x.shape[1]]
