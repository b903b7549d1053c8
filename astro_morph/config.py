"""Package configuration (``astro_morph.conf``), through astropy's configuration system."""

from astropy import config as _config

__all__ = ["conf", "Conf"]

#: Environment variable naming a folder of ImageNet weights files (wins over the config).
WEIGHTS_ENV = "ASTRO_MORPH_WEIGHTS"


class Conf(_config.ConfigNamespace):
    """Configuration of astro_morph (``astro_morph.conf``).

    Change values for the running Python process (``astro_morph.conf.weights_dir =
    "/data/weights"``), temporarily (``with astro_morph.conf.set_temp(...)``) or in the
    astropy configuration file of astro_morph. Archive access has its own section,
    ``astro_morph.surveys.conf``.
    """

    weights_dir = _config.ConfigItem(
        "", "Folder of ImageNet weights files of the backbones (Keras' .h5 or .weights.h5 "
            "files), for machines without internet; the environment variable "
            "ASTRO_MORPH_WEIGHTS wins over it.")


conf = Conf()
