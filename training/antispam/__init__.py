"""Text anti-spam (book chapter 14): word2vec + dynamic-length LSTM over jieba tokens of raw Chinese text."""
