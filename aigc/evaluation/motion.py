"""Judging generated `moving-shapes` clips: does the object move as asked, and stay itself?

Clips are float tensors in [-1, 1] shaped (N, T, 3, H, W). Each frame is read like a still
`shapes` image (aigc.evaluation.shapes): the foreground is every pixel far from the
border's median color. The motion is read from the track of the foreground's centroid,
in image sides (0 to 1, y grows downward):

- a straight motion needs a large net displacement along one axis, much larger than along
  the other, reached by a mostly one-way path (shuffled frames jump back and forth);
- "bouncing" needs a vertical track that turns around at least once by a clear amount but
  not as often as noise would, while staying in place horizontally.
"""

from __future__ import annotations

from collections import Counter

import torch

from .shapes import colors_and_positions, foreground

MIN_PIXELS = 4  # fewer foreground pixels than this is an empty frame (as colors_and_positions)
MIN_TRACK = 0.5  # share of frames that must show the object before any motion is read
MOVE = 0.2  # net displacement (image sides) that counts as moving; real clips travel 0.5
DOMINANCE = 2.0  # the moving axis must beat the other axis by this factor
STRAIGHTNESS = 0.7  # net displacement / path length along the moving axis
TURN = 0.1  # image sides a track must come back by before a reversal counts (pixel noise is smaller)
BOUNCE_RANGE = 0.15  # vertical extent (image sides) that makes a bounce; real bounces span 0.4
STILL_X = 0.1  # net horizontal drift (image sides) still allowed in a bounce


def _frames(clips: torch.Tensor) -> torch.Tensor:
    if clips.dim() != 5 or clips.shape[2] != 3:
        raise ValueError(f"clips must be (N, T, 3, H, W), got {tuple(clips.shape)}")
    return clips.reshape(-1, *clips.shape[2:])


def centroids(clips: torch.Tensor) -> torch.Tensor:
    """(N, T, 2): the foreground's centroid (x, y) per frame in image sides; NaN where a frame is empty."""
    _, mask = foreground(_frames(clips))
    n, t, _, h, w = clips.shape
    mask = mask.float()
    area = mask.sum((1, 2))
    xs = (torch.arange(w) + 0.5) / w
    ys = (torch.arange(h) + 0.5) / h
    x = (mask.sum(1) * xs).sum(1) / area.clamp(min=1)
    y = (mask.sum(2) * ys).sum(1) / area.clamp(min=1)
    out = torch.stack([x, y], 1)
    out[area < MIN_PIXELS] = float("nan")
    return out.reshape(n, t, 2)


def _reversals(track: torch.Tensor) -> int:
    """Turning points of a 1-D track; a turn counts only once the track has come back by TURN,
    so pixel-level wobble is not a reversal."""
    values = track.tolist()
    count, direction, low, high = 0, 0, values[0], values[0]
    for v in values[1:]:
        if direction == 0:  # no direction yet: wait for a clear first move
            low, high = min(low, v), max(high, v)
            if v - low >= TURN:
                direction, high = 1, v
            elif high - v >= TURN:
                direction, low = -1, v
        elif direction == 1:
            high = max(high, v)
            if high - v >= TURN:
                count, direction, low = count + 1, -1, v
        else:
            low = min(low, v)
            if v - low >= TURN:
                count, direction, high = count + 1, 1, v
    return count


def _motion(track: torch.Tensor) -> str | None:
    seen = track[~track.isnan().any(1)]  # empty frames are skipped, not guessed
    if len(seen) < max(3, MIN_TRACK * len(track)):
        return None
    # Net displacement from the mean of the first to the mean of the last few frames, so that
    # a single wobbly frame at either end does not decide it.
    k = max(1, len(seen) // 8)
    net = seen[-k:].mean(0) - seen[:k].mean(0)
    path = (seen[1:] - seen[:-1]).abs().sum(0).clamp(min=1e-6)
    for axis, (minus, plus) in ((0, ("moving left", "moving right")), (1, ("moving up", "moving down"))):
        along, across = net[axis].abs(), net[1 - axis].abs()
        if along >= MOVE and along >= DOMINANCE * across and along / path[axis] >= STRAIGHTNESS:
            return plus if net[axis] > 0 else minus
    y = seen[:, 1]
    turns = _reversals(y)
    # A bounce turns around a few times; noise or shuffled frames turn around at almost every frame.
    if y.max() - y.min() >= BOUNCE_RANGE and 1 <= turns <= len(seen) // 4 and net[0].abs() <= STILL_X:
        return "bouncing"
    return None


def motion_of(clips: torch.Tensor) -> list[str | None]:
    """The motion each clip shows, one of moving_shapes.MOTIONS, or None (no object, or no clear motion)."""
    return [_motion(track) for track in centroids(clips)]


def _frame_colors(clips: torch.Tensor) -> list[list[str | None]]:
    colors, _ = colors_and_positions(_frames(clips))
    t = clips.shape[1]
    return [colors[i : i + t] for i in range(0, len(colors), t)]


def _clip_color(frame_colors: list[str | None]) -> str | None:
    seen = Counter(c for c in frame_colors if c is not None)
    return seen.most_common(1)[0][0] if seen else None


def stability(clips: torch.Tensor, frame_colors: list[list[str | None]] | None = None) -> dict[str, float]:
    """Means over clips of: the share of frames showing the clip's most common color (an empty
    frame counts as a different color), and the foreground area's std / mean over frames.
    `worst_frame_color` is that share at the frame position where it is lowest (a clip whose
    first frame flickers flashes where the video loops); `steady_clips` the share of clips
    whose every frame shows their color.
    A clip that is empty throughout scores 0 on color and 0 on area. `frame_colors` saves
    reading the colors again when the caller has them."""
    if not len(clips):
        return dict.fromkeys(("color_consistency", "worst_frame_color", "steady_clips", "area_variation"), 0.0)
    _, mask = foreground(_frames(clips))
    areas = mask.float().sum((1, 2)).reshape(clips.shape[:2])
    relative_std = areas.std(1, unbiased=False) / areas.mean(1).clamp(min=1)
    holds = []  # per clip, per frame: does the frame show the clip's color?
    for colors in frame_colors or _frame_colors(clips):
        main = _clip_color(colors)
        holds.append([main is not None and c == main for c in colors])
    held = torch.tensor(holds, dtype=torch.float).reshape(len(holds), clips.shape[1])
    return {"color_consistency": float(held.mean()), "worst_frame_color": float(held.mean(0).min()),
            "steady_clips": float((held.min(1).values == 1).float().mean()), "area_variation": float(relative_std.mean())}


def judge_clips(clips: torch.Tensor, requested: list[dict[str, str]]) -> dict[str, float]:
    """motion_accuracy and color_accuracy among clips whose caption named a motion / a color,
    plus stability() and `no_motion`, the share of clips where no motion was found."""
    if len(requested) != len(clips):
        raise ValueError(f"{len(clips)} clips but {len(requested)} requests")
    motions = motion_of(clips)
    frame_colors = _frame_colors(clips)
    colors = [_clip_color(c) for c in frame_colors]
    out = {}
    for attr, seen in (("motion", motions), ("color", colors)):
        asked = [(want[attr], got) for want, got in zip(requested, seen) if want.get(attr)]
        if asked:
            out[f"{attr}_accuracy"] = sum(w == g for w, g in asked) / len(asked)
    out.update(stability(clips, frame_colors))
    out["no_motion"] = sum(m is None for m in motions) / max(1, len(clips))
    return out

