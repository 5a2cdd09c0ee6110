from fixer.entry import main

main()
