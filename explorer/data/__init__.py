"""Candle data: loading and sniffing files, cleaning, the sample generator, configs, sources, charts."""
