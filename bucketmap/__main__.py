from bucketmap.cli import main

main()
