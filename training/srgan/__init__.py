"""SRGAN x4 super-resolution (book chapter 13): generator/discriminator, bundled-photo data, training, evaluation."""
