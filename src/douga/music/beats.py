"""Beat tracking: a joint tempo-and-phase hidden Markov model over the onset envelope.

The state space follows Krebs, Böck & Widmer (2015, "An efficient state-space model
for joint tempo and meter tracking"): one state per (beat period, position inside the
beat). Positions advance one frame at a time; at the end of a beat the period may
change to a neighbouring one, so tempo drifts and jumps are followed. The Viterbi path
gives the beats. Which metrical level counts as "the beat" (eighths, quarters or
dotted quarters; half or double tempo) is decided first, from the periodicity of the
envelope and a preference for moderate tempi, and the model's tempo range is limited
around it so the tracker cannot slide to another level halfway through. The range is
centred on the median of a local tempo path (a tempogram followed by dynamic
programming), so a song that speeds up or slows down is tracked around its typical
tempo rather than around the tempo of its longest or loudest stretch.

Two phase checks follow the tracker: swung and shuffled rhythms (the beat is the onset
that follows the short note of a long-short pair) and syncopated music (kick and bass
stay on the beat when the loudest onsets are off it).

A last check asks whether a fast tracked level is a subdivision of the beat (the
eighths of a slow 3/4 or 6/8 piece): if the harmony cycles every six tracked beats
and the bass lands on every second or third of them, the beat is two or three
tracked beats long, and the song is tracked again at that level. Two opposite checks
ask whether the tracked level is too slow: whole bars of three (a drumless waltz's
bass marks only beat 1, but its chords, "oom-pah-pah", fill both thirds of each
tracked beat), or half the tempo (drum and bass or fast rock tracked on its snare:
the kick lands between the tracked beats); a last one
whether a fast level is the even eighths of a busy sixteenth-note groove (funk),
which is then tracked at half the tempo, on the sixteenth where kick and bass are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from douga.music.downbeats import chord_novelty, harmonic_contrast
from douga.music.onsets import OnsetFeatures, segment_means

MIN_BPM = 40.0
MAX_BPM = 240.0
# preferred tempo (listeners' tapping tempo clusters near 120 BPM, Moelants 2002), and the
# spread of that preference in octaves
PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.3
TEMPO_RANGE = (0.6, 1.65)  # factors of the chosen level that bound the tracker's tempi
OFFBEAT_RATIO = 1.3
LOCAL_WINDOW_S = 8.0  # tempogram window and hop (s)
LOCAL_HOP_S = 1.0
TEMPO_JUMP_COST = 8.0  # tempo-path cost per octave of change between consecutive windows
SWING_COMPARABLE = 0.8  # a pickup is "as strong as the beat" above this ratio
SWING_WEAK = 0.5  # ... and the opposite triplet position is "empty" below this ratio
# a tracked level faster than this may be a subdivision of a slow beat (eighths)
SUBDIVISION_BPM = 100.0
# the bass is "on every k-th tracked beat" when it is this much stronger there than elsewhere
BASS_ACCENT = 1.5
# a tracked level slower than this may be whole bars of three ("oom-pah-pah")
BAR_LEVEL_BPM = 80.0
# ... when the high band at both thirds of each tracked beat is this much stronger than on it
AFTERBEAT_RATIO = 1.3
# when a check moves a steady level by a whole factor, the beat is known to within the drift
# of the tracked beats: the song is tracked again this close to it
RETRACK_RANGE = (0.85, 1.2)
# a tracked level slower than this may be half the tempo (the doubled level stays <= 210)
HALF_TEMPO_BPM = 105.0
# the kick drum is "between the tracked beats" when it is this much stronger there
KICK_BETWEEN_RATIO = 1.6
# a tracked level faster than this whose off-beats are about as strong as its beats
# (within this range of ratios) is the eighths of a busy groove; set above the 170-190 BPM
# of much fast rock and anime-song pop, whose dense eighths are its real off-beats
BUSY_BPM = 190.0
BUSY_EVEN = (0.85, 1.25)
# ... and whose high band (the snare) accents one tracked beat in four by this much: the
# backbeat every fourth tracked beat, where dense eighths of fast rock accent none
BACKBEAT_ACCENT = 1.5


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float
    salience: np.ndarray  # (n,) periodicity strength per candidate BPM
    candidates: np.ndarray  # (n,) candidate BPMs


def periodicity(envelope: np.ndarray, rate: float, *, max_lag_s: float = 4.0) -> np.ndarray:
    """Normalised autocorrelation of the (mean-removed) envelope, lags 0..max_lag_s."""
    x = envelope - envelope.mean()
    n = x.size
    max_lag = min(int(max_lag_s * rate), n - 1)
    if max_lag < 2:
        return np.zeros(1)
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[: max_lag + 1]
    acf /= max(float(acf[0]), 1e-9)
    return np.asarray(acf)


def estimate_tempo(
    envelope: np.ndarray,
    rate: float,
    *,
    prior_bpm: float = PRIOR_BPM,
    prior_octaves: float = PRIOR_OCTAVES,
) -> TempoEstimate:
    """Choose the beat level: the BPM whose period, and its multiples, repeat most,
    weighted by a broad log-normal preference for moderate tempi.

    The salience of a period ``p`` sums the autocorrelation at p, 2p and 4p, so a beat
    is preferred when the bars built on it also repeat. The prior (centre ``prior_bpm``,
    spread ``prior_octaves``) only breaks near-ties between metrical levels.
    """
    acf = periodicity(envelope, rate)
    bpms = np.geomspace(MIN_BPM, MAX_BPM, 240)
    if acf.size < 4:
        return TempoEstimate(0.0, np.zeros_like(bpms), bpms)
    sal = _comb_salience(acf, 60.0 * rate / bpms)
    prior = np.exp(-0.5 * (np.log2(bpms / prior_bpm) / prior_octaves) ** 2)
    score = sal * prior
    best = float(bpms[int(np.argmax(score))])
    return TempoEstimate(best, score, bpms)


def _comb_salience(acf: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Periodicity of each period ``p`` (frames) and of the bars built on it: acf(p, 2p, 4p)."""
    lags = np.arange(acf.size)
    pos = np.maximum(acf, 0.0)

    def at(period: np.ndarray) -> np.ndarray:
        return np.interp(period, lags, pos, right=0.0)

    return np.asarray(at(periods) + 0.5 * at(2 * periods) + 0.25 * at(4 * periods))


def local_tempo(
    envelope: np.ndarray,
    rate: float,
    *,
    window_s: float = LOCAL_WINDOW_S,
    hop_s: float = LOCAL_HOP_S,
    jump_cost: float = TEMPO_JUMP_COST,
    prior_bpm: float = PRIOR_BPM,
    prior_octaves: float = PRIOR_OCTAVES,
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth tempo path through the song: window centre times (s) and BPM per window.

    Each window's salience is the same comb as :func:`estimate_tempo`, on the
    autocorrelation of a Hann-windowed stretch of the envelope. A Viterbi pass over the
    windows picks one BPM per window, paying ``jump_cost`` per octave of change, so the
    path follows an accelerando but does not flicker between metrical levels.
    """
    n = envelope.size
    width = min(int(window_s * rate), n)
    hop = max(1, int(hop_s * rate))
    bpms = np.geomspace(MIN_BPM, MAX_BPM, 160)
    if width < 8:
        return np.zeros(0), np.zeros(0)
    starts = np.arange(0, n - width + 1, hop)
    periods = 60.0 * rate / bpms
    hann = np.hanning(width)
    x = envelope.astype(np.float64)
    segs = np.stack([x[s : s + width] for s in starts])
    segs = (segs - segs.mean(axis=1, keepdims=True)) * hann[None, :]
    spec = np.fft.rfft(segs, 2 * width, axis=1)
    acf = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :width]
    acf /= np.maximum(acf[:, :1], 1e-9)
    prior = np.exp(-0.5 * (np.log2(bpms / prior_bpm) / prior_octaves) ** 2)
    score = np.log(np.maximum(np.stack([_comb_salience(a, periods) for a in acf]) * prior, 1e-3))
    octaves = np.log2(bpms)
    trans = -jump_cost * np.abs(octaves[:, None] - octaves[None, :])
    best = score[0].copy()
    back = np.zeros(score.shape, dtype=np.int64)
    for k in range(1, starts.size):
        cand = best[:, None] + trans
        back[k] = np.argmax(cand, axis=0)
        best = cand[back[k], np.arange(bpms.size)] + score[k]
    path = np.zeros(starts.size, dtype=np.int64)
    path[-1] = int(np.argmax(best))
    for k in range(starts.size - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return (starts + width / 2) / rate, bpms[path]


def beat_level(envelope: np.ndarray, rate: float) -> float:
    """The BPM to centre the beat tracker on.

    The metrical level comes from :func:`estimate_tempo` (whole-song periodicity). The
    value within that level comes from the median of :func:`local_tempo`'s path, moved to
    the same level (by a factor 1/3, 1/2, 1, 2 or 3), so a song whose tempo changes is
    tracked around its typical tempo.
    """
    level = estimate_tempo(envelope, rate).bpm
    if level <= 0:
        return level
    _, path = local_tempo(envelope, rate)
    if path.size == 0:
        return level
    typical = float(np.median(path))
    factors = np.array([1 / 3, 1 / 2, 1.0, 2.0, 3.0])
    factor = factors[int(np.argmin(np.abs(np.log(level / (typical * factors)))))]
    return typical * float(factor)


def beat_observation(envelope: np.ndarray, *, percentile: float = 98.0) -> np.ndarray:
    """Map the onset envelope to a pseudo-probability that a beat falls on each frame."""
    from scipy.ndimage import uniform_filter1d

    # subtract a moving average so steady loud passages do not read as beats everywhere
    local = uniform_filter1d(envelope.astype(np.float64), size=17)
    act = np.maximum(envelope - 0.5 * local, 0.0)
    scale = np.percentile(act, percentile) if act.size else 1.0
    act = act / max(float(scale), 1e-9)
    return np.clip(act, 0.02, 0.98)


@njit(cache=True)
def _viterbi(
    obs: np.ndarray,
    periods: np.ndarray,
    log_trans: np.ndarray,
    beat_width: np.ndarray,
    obs_lambda: float,
) -> np.ndarray:  # pragma: no cover - jit
    n_frames = obs.shape[0]
    n_tempi = periods.shape[0]
    offsets = np.zeros(n_tempi + 1, dtype=np.int64)
    for i in range(n_tempi):
        offsets[i + 1] = offsets[i] + periods[i]
    n_states = offsets[n_tempi]
    delta = np.full(n_states, -np.log(n_states))
    new = np.empty(n_states)
    back = np.zeros((n_frames, n_tempi), dtype=np.int32)
    log_beat = np.log(obs)
    log_none = np.log((1.0 - obs) / (obs_lambda - 1.0))
    for t in range(n_frames):
        lb = log_beat[t]
        ln = log_none[t]
        for i in range(n_tempi):
            # entering a new beat at tempo i, from the last position of any tempo j
            best = -np.inf
            arg = 0
            for j in range(n_tempi):
                v = delta[offsets[j] + periods[j] - 1] + log_trans[j, i]
                if v > best:
                    best = v
                    arg = j
            back[t, i] = arg
            base = offsets[i]
            w = beat_width[i]
            for phase in range(periods[i] - 1, 0, -1):
                new[base + phase] = delta[base + phase - 1] + (lb if phase < w else ln)
            new[base] = best + lb
        mx = -np.inf
        for s in range(n_states):
            if new[s] > mx:
                mx = new[s]
        for s in range(n_states):
            delta[s] = new[s] - mx
    # backtrack
    state = 0
    mx = -np.inf
    for s in range(n_states):
        if delta[s] > mx:
            mx = delta[s]
            state = s
    tempo = 0
    for i in range(n_tempi):
        if offsets[i] <= state < offsets[i + 1]:
            tempo = i
    phase = state - offsets[tempo]
    beats = np.zeros(n_frames, dtype=np.int8)
    for t in range(n_frames - 1, -1, -1):
        if phase == 0:
            beats[t] = 1
            tempo = back[t, tempo]
            phase = periods[tempo] - 1
        else:
            phase -= 1
    return beats


def track_beats(
    envelope: np.ndarray,
    rate: float,
    *,
    bpm: float | None = None,
    tempo_range: tuple[float, float] = TEMPO_RANGE,
    transition_lambda: float = 100.0,
    obs_lambda: float = 16.0,
    obs_percentile: float = 98.0,
) -> np.ndarray:
    """Beat times (s) of an onset envelope sampled at ``rate`` frames per second.

    Parameters
    ----------
    envelope
        (T,) onset envelope.
    bpm
        The beat level to track around; estimated with :func:`estimate_tempo` if None.
    tempo_range
        Factors of ``bpm`` that bound the tempi the model may follow.
    transition_lambda
        Stiffness of tempo changes between consecutive beats (higher = steadier).
    obs_lambda
        The first 1/obs_lambda of each beat period counts as "on the beat".
    """
    if envelope.size < 4 or float(envelope.max()) <= 0:
        return np.zeros(0)
    if bpm is None:
        bpm = estimate_tempo(envelope, rate).bpm
    if bpm <= 0:
        return np.zeros(0)
    lo = max(MIN_BPM * 0.8, bpm * tempo_range[0])
    hi = min(MAX_BPM * 1.25, bpm * tempo_range[1])
    p_min = max(2, int(np.floor(60.0 * rate / hi)))
    p_max = max(p_min + 1, int(np.ceil(60.0 * rate / lo)))
    periods = np.arange(p_min, p_max + 1, dtype=np.int64)
    ratio = periods[None, :] / periods[:, None]
    trans = np.exp(-transition_lambda * np.abs(ratio - 1.0))
    trans /= trans.sum(axis=1, keepdims=True)
    log_trans = np.log(np.maximum(trans, 1e-300))
    width = np.maximum(1, np.round(periods / obs_lambda)).astype(np.int64)
    obs = beat_observation(envelope, percentile=obs_percentile)
    flags = _viterbi(obs.astype(np.float64), periods, log_trans, width, obs_lambda)
    frames = np.flatnonzero(flags)
    # the first state of the path is arbitrary: drop a spurious beat in frame 0
    if frames.size and frames[0] == 0 and obs[0] < 0.5:
        frames = frames[1:]
    return frames / rate


def _tempo_of(beat_times: np.ndarray) -> float:
    """BPM of a beat sequence (its median period)."""
    return 60.0 / float(np.median(np.diff(beat_times)))


def _window_max(x: np.ndarray, times: np.ndarray, rate: float) -> np.ndarray:
    """The maximum of ``x`` within ±2 frames of each time."""
    frames = np.clip(np.round(times * rate).astype(np.int64), 0, x.size - 1)
    win = np.clip(frames[:, None] + np.arange(-2, 3)[None, :], 0, x.size - 1)
    return np.asarray(x[win].max(axis=1))


def _strength_at(x: np.ndarray, times: np.ndarray, rate: float) -> float:
    """Mean of the local maxima (±2 frames) of ``x`` at the given times."""
    return float(np.mean(_window_max(x, times, rate)))


def _on_and_between(x: np.ndarray, beat_times: np.ndarray, rate: float) -> tuple[float, float]:
    """Strength of ``x`` on the beats (after the first) and half-way between them."""
    mids = 0.5 * (beat_times[1:] + beat_times[:-1])
    return _strength_at(x, beat_times[1:], rate), _strength_at(x, mids, rate)


def _position_accent(x: np.ndarray, k: int) -> float:
    """How much one position in every ``k`` stands out: the largest ratio of the mean of
    ``x`` at that position to its mean at the other positions."""
    idx = np.arange(x.size)
    return max(float(np.mean(x[idx % k == p])) / max(float(np.mean(x[idx % k != p])), 1e-9)
               for p in range(k))


def correct_offbeat(
    beat_times: np.ndarray, low: np.ndarray, rate: float, *, ratio: float = OFFBEAT_RATIO
) -> tuple[np.ndarray, float]:
    """Move the beats half a period when the kick and bass say they sit on the off-beats.

    Syncopated music (ska, reggae, funk) puts its loudest broadband onsets between the
    beats, so the tracker can lock onto them. Kick drum and bass notes stay on the beat:
    if the low band is clearly stronger halfway between the tracked beats than on them,
    the whole sequence is shifted. Returns the beats and the off/on low-band ratio.
    """
    if beat_times.size < 8 or low.size == 0:
        return beat_times, 1.0
    mids = 0.5 * (beat_times[1:] + beat_times[:-1])
    on, off = _strength_at(low, beat_times[1:-1], rate), _strength_at(low, mids, rate)
    score = off / max(on, 1e-9)
    if score > ratio and off > 0.2:
        period = float(np.median(np.diff(beat_times)))
        first = mids[0] - period if mids[0] - period >= 0 else None
        shifted = np.concatenate(
            [[first] if first is not None else [], mids, [beat_times[-1] + period / 2]]
        )
        return shifted, score
    return beat_times, score


def correct_swing_phase(
    beat_times: np.ndarray,
    envelope: np.ndarray,
    rate: float,
    *,
    comparable: float = SWING_COMPARABLE,
    weak: float = SWING_WEAK,
) -> tuple[np.ndarray, float]:
    """Move the beats a third of a period later when they sit on the shuffle's pickups.

    In swung and shuffled music (12/8 blues, swing) each beat is a long-short pair of
    triplet notes, and the short note leads into the next beat. If the tracked beats are
    followed, a third of a period later, by onsets as strong as themselves, and nothing
    sits at two thirds, the tracked beats are the short pickup notes: the beat is the
    onset after them. Returns the beats and the strength ratio (third / beat).
    """
    if beat_times.size < 8 or envelope.size == 0:
        return beat_times, 0.0
    period = np.diff(beat_times)
    on = _strength_at(envelope, beat_times[:-1], rate)
    third = _strength_at(envelope, beat_times[:-1] + period / 3, rate)
    two_thirds = _strength_at(envelope, beat_times[:-1] + 2 * period / 3, rate)
    ratio = third / max(on, 1e-9)
    if ratio >= comparable and two_thirds < weak * third:
        last = beat_times[-1] + float(np.median(period)) / 3
        return np.append(beat_times[:-1] + period / 3, last), ratio
    return beat_times, ratio


def subdivision_factor(
    beat_times: np.ndarray,
    features: OnsetFeatures,
    *,
    fast_bpm: float = SUBDIVISION_BPM,
    bass_accent: float = BASS_ACCENT,
) -> int:
    """How many tracked beats make one real beat: 1, or 2 or 3 for a subdivision.

    A slow 3/4 or 6/8 piece with running eighths can be tracked at the eighth level:
    its bar is then six tracked beats long. Two things give that away, neither of
    which a fast 4/4 shows: the harmony cycles every six tracked beats (the chord
    novelty stands out more on every 6th beat than on every 2nd, 3rd, 4th or 8th),
    and the bass lands on every 2nd or 3rd tracked beat, clearly stronger there than
    on the others (a walking bass or a four-on-the-floor kick is even). The beat is
    then two tracked beats (3/4: harmony also changes more on every 2nd) or three
    (6/8: on every 3rd).
    """
    if beat_times.size < 16 or features.chroma.shape[1] == 0:
        return 1
    bpm = _tempo_of(beat_times)
    if bpm <= fast_bpm:
        return 1
    T = features.n_frames
    frames = np.round(beat_times * features.rate).astype(np.int64)
    chroma = segment_means(features.chroma, np.concatenate([frames, [T]]).clip(0, T))
    contrast = {m: harmonic_contrast(chord_novelty(chroma, m), m)[0] for m in (2, 3, 4, 6, 8)}
    if contrast[6] <= max(contrast[m] for m in (2, 3, 4, 8)):
        return 1
    bass = _window_max(features.low, beat_times, features.rate)
    if max(_position_accent(bass, 2), _position_accent(bass, 3)) <= bass_accent:
        return 1
    if contrast[2] >= contrast[3] or bpm / 3 < MIN_BPM:
        return 2
    return 3


def bar_of_three(
    beat_times: np.ndarray,
    features: OnsetFeatures,
    *,
    slow_bpm: float = BAR_LEVEL_BPM,
    ratio: float = AFTERBEAT_RATIO,
) -> bool:
    """Whether each tracked beat is a whole bar of three beats ("oom-pah-pah").

    A waltz without drums can be tracked one beat per bar: the bass on beat 1 is its
    strongest, most regular onset. Its accompaniment gives it away: the chords sit on
    beats 2 and 3, so the high band is clearly stronger at both thirds of each tracked
    beat than on it, while the bass stays on it. No slow piece tracked at its real beat
    shows that (a shuffle fills only the last third; arpeggios in 6/8 are weaker than
    the beat they follow).
    """
    if beat_times.size < 16:
        return False
    period = np.diff(beat_times)
    if _tempo_of(beat_times) >= slow_bpm:
        return False
    on, rate = beat_times[:-1], features.rate
    high_on = max(_strength_at(features.high, on, rate), 1e-9)
    low_on = max(_strength_at(features.low, on, rate), 1e-9)
    return all(
        _strength_at(features.high, on + k * period / 3, rate) > ratio * high_on
        and _strength_at(features.low, on + k * period / 3, rate) < low_on / ratio
        for k in (1, 2)
    )


def kick_between_beats(
    beat_times: np.ndarray,
    features: OnsetFeatures,
    *,
    slow_bpm: float = HALF_TEMPO_BPM,
    ratio: float = KICK_BETWEEN_RATIO,
) -> bool:
    """Whether the tracked beats are a backbeat at half the tempo.

    Drum and bass, and fast rock, are often felt, and tracked, at half their tempo: the
    snare on beats 2 and 4 is their loudest, most regular onset, and the tracker locks
    to it. The kick then lands between the tracked beats, while in a groove tracked at
    its real beat kick and snare both sit on beats. The kick band (below 100 Hz, under
    the snare's body) tells them apart: between the tracked beats it is then clearly
    stronger than on them. Only levels slower than ``slow_bpm`` are asked, where a
    doubled level is still a plausible beat.

    The mirror case, rock tracked on its kick with the snare between the tracked
    beats, is not handled: house music (off-beat open hi-hats) and reggaeton (the
    dembow snare) put the same high-band onsets between beats at their real tempo.
    """
    if beat_times.size < 16 or _tempo_of(beat_times) >= slow_bpm:
        return False
    on, between = _on_and_between(features.kick, beat_times, features.rate)
    return between > ratio * max(on, 1e-9) and between > 0.2


def busy_eighths(
    beat_times: np.ndarray,
    features: OnsetFeatures,
    *,
    fast_bpm: float = BUSY_BPM,
    even: tuple[float, float] = BUSY_EVEN,
    backbeat: float = BACKBEAT_ACCENT,
) -> bool:
    """Whether a fast tracked level is the eighth notes of a busy sixteenth-note groove.

    Funk keeps every sixteenth busy and puts its loudest stabs off the beat, so the
    whole-song periodicity favours odd levels (a dotted eighth) and the tracker ends on
    the eighths, above 200 BPM. Such a level is given away by how even it is: the
    onsets between the tracked beats are as strong as those on them, where a groove
    tracked at its beat has its weaker notes between the beats (or, off-beat skanks,
    much stronger ones there, which the off-beat check handles), and its snare
    backbeat falls on every fourth tracked beat, not every second: fast rock with
    dense eighths is as even, but its snare is on its (tracked) beats 2 and 4.
    """
    if beat_times.size < 16 or _tempo_of(beat_times) <= fast_bpm:
        return False
    on, between = _on_and_between(features.envelope, beat_times, features.rate)
    if not even[0] * on < between < even[1] * on:
        return False
    return _position_accent(_window_max(features.high, beat_times, features.rate), 4) >= backbeat


def correct_sixteenth_phase(
    beat_times: np.ndarray, low: np.ndarray, rate: float, *, ratio: float = OFFBEAT_RATIO
) -> np.ndarray:
    """Move the beats a quarter of a period when the kick and bass sit a sixteenth off.

    Only for beats found by halving a busy groove (:func:`busy_eighths`): the tracker
    may lock to a syncopated sixteenth, where the stabs are louder than the beat. Kick
    and bass mark the beat: if the low band is clearly stronger a quarter period
    before or after the tracked beats than on them, the sequence is shifted there.
    """
    if beat_times.size < 8 or low.size == 0:
        return beat_times
    period = np.diff(beat_times)
    on = beat_times[:-1]
    strength = {k: _strength_at(low, on + k * period / 4, rate) for k in (-1, 0, 1)}
    best = max((-1, 1), key=lambda k: strength[k])
    if strength[best] <= ratio * max(strength[0], 1e-9):
        return beat_times
    shifted = beat_times + best * float(np.median(period)) / 4
    return shifted[shifted >= 0]


def track(features: OnsetFeatures) -> tuple[float, np.ndarray]:
    """The whole beat stage: level, HMM tracking, phase checks, metrical-level checks.

    Returns the BPM the tracker was centred on and the beat times (s).
    """
    envelope, rate = features.envelope, features.rate

    def run(level: float, tempo_range: tuple[float, float] = TEMPO_RANGE,
            sixteenths: bool = False) -> np.ndarray:
        beats = track_beats(envelope, rate, bpm=level, tempo_range=tempo_range)
        beats, _ = correct_swing_phase(beats, envelope, rate)
        beats, _ = correct_offbeat(beats, features.low, rate)
        if sixteenths:
            beats = correct_sixteenth_phase(beats, features.low, rate)
        return beats

    level = beat_level(envelope, rate)
    beats = run(level)
    if beats.size < 16:  # too few beats for any of the metrical-level checks
        return level, beats
    tracked = _tempo_of(beats)
    k = subdivision_factor(beats, features)
    if k > 1:
        return tracked / k, run(tracked / k)
    if bar_of_three(beats, features):
        return 3 * tracked, run(3 * tracked, RETRACK_RANGE)
    if kick_between_beats(beats, features):
        return 2 * tracked, run(2 * tracked)
    if busy_eighths(beats, features):
        return tracked / 2, run(tracked / 2, RETRACK_RANGE, sixteenths=True)
    return level, beats
