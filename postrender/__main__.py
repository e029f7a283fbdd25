from .process import run

run()
