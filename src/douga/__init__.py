"""douga: beat-synchronised anime music videos from a song, keyframes and text.

Data flow: project file + song → ``analyze_music`` (MusicMap) → ``plan_timeline``
(Timeline) → frames → video.
"""

from douga.errors import DougaError, InputError, MissingDependency

__all__ = ["DougaError", "InputError", "MissingDependency", "__version__"]
__version__ = "0.1.0"
