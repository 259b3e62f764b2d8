"""Music analysis: audio → MusicMap (tempo, beats, downbeats, onsets, sections, intensity)."""

from douga.music.musicmap import MusicMap, Section

__all__ = ["MusicMap", "Section"]
