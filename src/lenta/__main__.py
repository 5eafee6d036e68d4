from lenta.cli import main

main()
