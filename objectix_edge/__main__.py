from objectix_edge.cli.app import main

main()
