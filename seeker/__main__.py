from seeker.cli.app import main

main()
