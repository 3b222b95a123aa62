# Drawn by scripts/plot-inference.py; render with: gnuplot layers.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'layers.svg'
set title 'Server time per layer (largest run of each scheme)' noenhanced
set xlabel 'layer' noenhanced
set ylabel 'seconds (wall)' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 noenhanced
set yrange [0:*]
plot 'layers.dat' using 2:xtic(1) lc rgb '#1f77b4' title 'BFV, 10000 images', \
     'layers.dat' using 3:xtic(1) lc rgb '#d62728' title 'CKKS, 10000 images'
